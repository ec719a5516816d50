/**
 * The samples' batch INSERT on a real database (both): only samples of Active sessions are stored, and a repeat
 * changes nothing; every column arrives as given, whether the batch goes joined or, when a value holds a separator,
 * as arrays (src/db/joined-text.ts). How the database executes it: hot-path-plans.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { seedDemo } from '../src/seed/seed-demo.ts';
import type { SessionService } from '../src/sessions/session-service.ts';
import { insertSamples, type SampleRow } from '../src/sessions/session-store.ts';
import { createTestSessionService, startDemoSession } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const UNKNOWN_SESSION = '00000000-0000-4000-8000-000000000000';

describe.skipIf(skip)('the samples batch INSERT', () => {
  let handle: DatabaseHandle;
  let service: SessionService;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
    const db = handle.db;
    service = createTestSessionService(db, new Date('2026-11-20T08:00:00Z'));
  });
  afterAll(async () => {
    await handle?.close();
  });

  const startSession = (station: number, transactionId: string) =>
    startDemoSession(service, station, transactionId, new Date('2026-11-20T06:00:00Z'));
  const row = (sessionId: string, minute: number, registerWh: string): SampleRow => ({
    session_id: sessionId,
    sampled_at: new Date(Date.UTC(2026, 10, 20, 6, minute)),
    context: 'Sample.Periodic',
    register_wh: registerWh,
    power_w: '11000.000',
    current_a: null,
    soc_percent: null,
  });
  const storedOf = async (sessionId: string) =>
    handle.db
      .selectFrom('meter_samples')
      .select(['sampled_at', 'register_wh'])
      .where('session_id', '=', sessionId)
      .orderBy('sampled_at')
      .execute();

  it('stores the samples of Active sessions only, and a repeated batch changes nothing', async () => {
    const active = await startSession(6, 'tx-samples-active');
    const completed = await startSession(7, 'tx-samples-completed');
    await handle.db.updateTable('sessions').set({ status: 'Completed' }).where('id', '=', completed).execute();

    const batch = [
      row(active, 15, '2500.000'),
      row(completed, 15, '3000.000'),
      row(UNKNOWN_SESSION, 15, '4000.000'),
      row(active, 30, '4000.500'),
    ];
    await insertSamples(handle.db, batch);
    await insertSamples(handle.db, batch);

    const stored = await storedOf(active);
    expect(stored.map((s) => [s.sampled_at.toISOString(), Number(s.register_wh).toFixed(3)])).toEqual([
      ['2026-11-20T06:15:00.000Z', '2500.000'],
      ['2026-11-20T06:30:00.000Z', '4000.500'],
    ]);
    expect(await storedOf(completed)).toEqual([]);
    expect(await storedOf(UNKNOWN_SESSION)).toEqual([]);
  });

  it('stores every column as given, nulls as nulls, joined and as arrays alike', async () => {
    const session = await startSession(8, 'tx-samples-columns');
    const full = (minute: number, context: string): SampleRow => ({
      session_id: session,
      sampled_at: new Date(Date.UTC(2026, 10, 20, 6, minute, 0, 250)),
      context,
      register_wh: '12345.678',
      power_w: null,
      current_a: '31.500',
      soc_percent: '80.0',
    });
    await insertSamples(handle.db, [full(1, 'Sample.Periodic'), row(session, 2, '12400.000')]);
    // A context with a record separator cannot be joined: the batch goes as arrays, stored the same.
    await insertSamples(handle.db, [full(3, 'Odd\u001eContext'), row(session, 4, '12500.000')]);
    const stored = await handle.db
      .selectFrom('meter_samples')
      .select(['sampled_at', 'context', 'register_wh', 'power_w', 'current_a', 'soc_percent'])
      .where('session_id', '=', session)
      .orderBy('sampled_at')
      .execute();
    expect(
      stored.map((s) => [
        s.sampled_at.toISOString(),
        s.context,
        s.register_wh === null ? null : Number(s.register_wh),
        s.power_w === null ? null : Number(s.power_w),
        s.current_a === null ? null : Number(s.current_a),
        s.soc_percent === null ? null : Number(s.soc_percent),
      ]),
    ).toEqual([
      ['2026-11-20T06:01:00.250Z', 'Sample.Periodic', 12345.678, null, 31.5, 80],
      ['2026-11-20T06:02:00.000Z', 'Sample.Periodic', 12400, 11000, null, null],
      ['2026-11-20T06:03:00.250Z', 'Odd\u001eContext', 12345.678, null, 31.5, 80],
      ['2026-11-20T06:04:00.000Z', 'Sample.Periodic', 12500, 11000, null, null],
    ]);
  });
});
