/**
 * The stop's metering read carries the session's samples and charging-state changes as json (sampleRowsJson,
 * stateChangesJson in session-store.ts) instead of two statements of their own. On a real database (both): what
 * the json gives back is exactly what the plain reads return (decimals as text to the last digit, nulls, timestamps
 * to the millisecond, order), and a session with none gives empty lists.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { seedDemo } from '../src/seed/seed-demo.ts';
import {
  loadSampleRows,
  loadStateChanges,
  sampleRowsJson,
  sampleRowsOfJson,
  stateChangesJson,
  stateChangesOfJson,
} from '../src/sessions/session-store.ts';
import { createTestSessionService, startDemoSession } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const at = (minute: number, ms = 0) => new Date(Date.UTC(2026, 10, 27, 6, minute, 0, ms));

describe.skipIf(skip)('samples and charging-state changes read as json', () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
  });
  afterAll(async () => {
    await handle?.close();
  });

  const viaJson = async (sessionId: string) => {
    const row = (
      await sql<{ samples: unknown; states: unknown }>`select ${sampleRowsJson(sessionId)} as samples,
        ${stateChangesJson(sessionId)} as states`.execute(handle.db)
    ).rows[0];
    return { samples: sampleRowsOfJson(row?.samples), states: stateChangesOfJson(row?.states) };
  };

  it('gives back exactly what the plain reads return', async () => {
    const service = createTestSessionService(handle.db, at(0));
    const sessionId = await startDemoSession(service, 1, 'json-1', at(0));
    await handle.db
      .insertInto('meter_samples')
      .values([
        // Out of time order on purpose; decimals to the last digit, a register beyond 2^53 mWh, nulls.
        {
          session_id: sessionId,
          sampled_at: at(20, 7),
          context: 'Sample.Periodic',
          register_wh: '9007199254741.993',
          power_w: '11000.5',
          current_a: '15.875',
          soc_percent: null,
        },
        {
          session_id: sessionId,
          sampled_at: at(5, 999),
          context: 'Sample.Clock',
          register_wh: '1234.001',
          power_w: null,
          current_a: null,
          soc_percent: '42',
        },
        {
          session_id: sessionId,
          sampled_at: at(0),
          context: 'Transaction.Begin',
          register_wh: '1000',
          power_w: '0',
          current_a: null,
          soc_percent: null,
        },
      ])
      .execute();
    await handle.db
      .insertInto('session_states')
      .values([
        { session_id: sessionId, changed_at: at(30, 1), state: 'SuspendedEV' },
        { session_id: sessionId, changed_at: at(0), state: 'Charging' },
      ])
      .execute();

    const json = await viaJson(sessionId);
    expect(json.samples).toEqual(await loadSampleRows(handle.db, sessionId));
    expect(json.states).toEqual(await loadStateChanges(handle.db, sessionId));
    expect(json.samples.map((s) => [s.sampled_at.toISOString(), s.register_wh, s.power_w, s.current_a])).toEqual([
      ['2026-11-27T06:00:00.000Z', '1000.000', '0.000', null],
      ['2026-11-27T06:05:00.999Z', '1234.001', null, null],
      ['2026-11-27T06:20:00.007Z', '9007199254741.993', '11000.500', '15.875'],
    ]);
    expect(json.states).toEqual([
      { at: at(0), state: 'Charging' },
      { at: at(30, 1), state: 'SuspendedEV' },
    ]);
  });

  it('gives empty lists for a session without samples or changes', async () => {
    const service = createTestSessionService(handle.db, at(0));
    const sessionId = await startDemoSession(service, 2, 'json-2', at(0));
    await handle.db.deleteFrom('session_states').where('session_id', '=', sessionId).execute();
    expect(await viaJson(sessionId)).toEqual({ samples: [], states: [] });
  });
});
