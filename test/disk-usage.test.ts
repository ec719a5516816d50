/**
 * The benchmarks' disk figures (bench/disk-usage.ts) on a real PostgreSQL: WAL locations read as bytes, the message
 * log's frames counted to the byte, the tables' growth found and ordered. PostgreSQL only: PGlite has no WAL to
 * speak of and the benchmarks measure disk on PostgreSQL.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskGrowth, lsnToBytes, takeDiskSnapshot } from '../bench/disk-usage.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../src/db/open-database.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';

describe('WAL locations', () => {
  it('reads the high and low halves as one byte count', () => {
    expect(lsnToBytes('0/0')).toBe(0);
    expect(lsnToBytes('16/B374D848')).toBe(0x16 * 2 ** 32 + 0xb374d848);
    expect(lsnToBytes('0/1A2b3C')).toBe(0x1a2b3c);
  });
  it('refuses what is not an LSN', () => {
    expect(() => lsnToBytes('')).toThrow('not a WAL location: ');
    expect(() => lsnToBytes('16-B374D848')).toThrow('not a WAL location: 16-B374D848');
  });
});

describe('growth between two snapshots', () => {
  it('keeps the tables that grew, largest first, and subtracts the rest', () => {
    const before = {
      walBytes: 1_000,
      tableBytes: new Map([
        ['a', 8_192],
        ['b', 16_384],
        ['c', 8_192],
      ]),
      frameBytes: 100,
      loggedFrames: 2,
    };
    const after = {
      walBytes: 51_000,
      tableBytes: new Map([
        ['a', 16_384],
        ['b', 16_384],
        ['c', 40_960],
        ['d', 8_192],
      ]),
      frameBytes: 350,
      loggedFrames: 7,
    };
    expect(diskGrowth(before, after)).toEqual({
      walBytes: 50_000,
      tableBytes: 8_192 + 32_768 + 8_192,
      byTable: [
        ['c', 32_768],
        ['a', 8_192],
        ['d', 8_192],
      ],
      frameBytes: 250,
      loggedFrames: 5,
    });
  });
});

const skip = testBackend === 'postgres' ? postgresSkipReason() : 'the disk figures are measured on PostgreSQL';

describe.skipIf(skip)('a snapshot of a real database', () => {
  let handle: DatabaseHandle;
  let url: string;

  beforeAll(async () => {
    url = (await createTestDatabaseUrl()) as string;
    handle = await openDatabase({ kind: 'postgres', url });
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('counts the logged frames to the byte and sees the log and the WAL grow', async () => {
    const before = await takeDiskSnapshot(url);
    // A split frame counts payload + id + action + 10 bytes of OCPP-J framing; an unsplit one its raw text.
    await sql`insert into ocpp_messages (station_id, direction, message_type, message_id, action, payload, raw)
              values ('CP-1', 'in', 2, 'm1', 'Heartbeat', '{}', null),
                     ('CP-1', 'out', 3, 'm1', null, ${'{"currentTime":"2026-11-27T17:00:00Z"}'}, null),
                     ('CP-1', 'in', null, null, null, null, ${'[2,"x" not json'})`.execute(handle.db);
    const growth = diskGrowth(before, await takeDiskSnapshot(url));
    expect(growth.loggedFrames).toBe(3);
    expect(growth.frameBytes).toBe(2 + 2 + 9 + 10 + (38 + 2 + 10) + 15);
    expect(growth.walBytes).toBeGreaterThan(0);
    // The first rows of an empty table take its first heap page and index pages.
    expect(growth.byTable.find(([table]) => table === 'ocpp_messages')?.[1]).toBeGreaterThanOrEqual(8_192);
  });
});
