/**
 * Heartbeats' last-seen times written in batches (src/stations/last-seen-writer.ts): one statement for every
 * station touched since the last flush, the newest time per station, never moving a stored time backwards.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import { createLastSeenWriter } from '../src/stations/last-seen-writer.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

describe.skipIf(postgresSkipReason())('last-seen times in batches', () => {
  let handle: DatabaseHandle;
  const logger = pino({ level: 'silent' });
  const [a, b, c] = [demoStationId(1), demoStationId(2), demoStationId(3)];
  const lastSeen = async (id: string) =>
    (await handle.db.selectFrom('stations').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow())
      .last_seen_at;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
  });
  afterAll(async () => handle?.close());

  it('writes the newest time per station on flush, and nothing before it', async () => {
    // An interval longer than the test: only flush() and close() write.
    const writer = createLastSeenWriter(handle.db, logger, 3_600_000);
    writer.touch(a, new Date('2026-11-26T08:00:00.000Z'));
    writer.touch(a, new Date('2026-11-26T08:01:00.000Z'));
    writer.touch(a, new Date('2026-11-26T08:00:30.000Z')); // older than the one already recorded: ignored
    writer.touch(b, new Date('2026-11-26T08:02:00.000Z'));
    expect(await lastSeen(a)).toBeNull();
    await writer.flush();
    expect((await lastSeen(a))?.toISOString()).toBe('2026-11-26T08:01:00.000Z');
    expect((await lastSeen(b))?.toISOString()).toBe('2026-11-26T08:02:00.000Z');
    expect(await lastSeen(c)).toBeNull();

    // A time older than the stored one (a boot recorded meanwhile) does not move it backwards.
    await handle.db
      .updateTable('stations')
      .set({ last_seen_at: new Date('2026-11-26T09:00:00.000Z') })
      .where('id', '=', b)
      .execute();
    writer.touch(b, new Date('2026-11-26T08:59:00.000Z'));
    writer.touch(c, new Date('2026-11-26T08:03:00.000Z'));
    await writer.close();
    expect((await lastSeen(b))?.toISOString()).toBe('2026-11-26T09:00:00.000Z');
    expect((await lastSeen(c))?.toISOString()).toBe('2026-11-26T08:03:00.000Z');
  });

  it('ignores stations that do not exist (removed meanwhile)', async () => {
    const writer = createLastSeenWriter(handle.db, logger, 3_600_000);
    writer.touch('NO-SUCH-STATION', new Date('2026-11-26T08:00:00.000Z'));
    writer.touch(a, new Date('2026-11-26T10:00:00.000Z'));
    await writer.close();
    expect((await lastSeen(a))?.toISOString()).toBe('2026-11-26T10:00:00.000Z');
  });
});
