/**
 * Charging-state changes written in batches (recordStateChangesOnEvses, group-committed by the session service) on a
 * real database (both): each change goes to the Active session of its EVSE unless older than its start, a repeat
 * is stored once, a session's charging_state is the last of its changes in the order given (as one-by-one writes
 * left it), and a change for an EVSE without a running session or with an impossible number changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import type { SessionService } from '../src/sessions/session-service.ts';
import { type EvseStateChange, recordStateChangesOnEvses } from '../src/sessions/session-store.ts';
import { createTestSessionService, startDemoSession } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 6, minute));

describe.skipIf(skip)('charging-state changes written in batches', () => {
  let handle: DatabaseHandle;
  let service: SessionService;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
    const db = handle.db;
    service = createTestSessionService(db, at(0));
  });
  afterAll(async () => {
    await handle?.close();
  });

  const startSession = (station: number, transactionId: string) =>
    startDemoSession(service, station, transactionId, at(10));
  const change = (station: number, state: EvseStateChange['state'], minute: number, evseId = 1): EvseStateChange => ({
    stationId: demoStationId(station),
    evseId,
    state,
    at: at(minute),
  });
  const statesOf = async (sessionId: string) =>
    (
      await handle.db
        .selectFrom('session_states')
        .select(['changed_at', 'state'])
        .where('session_id', '=', sessionId)
        .orderBy('changed_at')
        .orderBy('state')
        .execute()
    ).map((r) => `${r.changed_at.toISOString().slice(11, 16)} ${r.state}`);
  const chargingState = async (sessionId: string) =>
    (
      await handle.db
        .selectFrom('sessions')
        .select('charging_state')
        .where('id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).charging_state;

  it('puts each change on its EVSE’s running session, once; the last given sets the state', async () => {
    const one = await startSession(1, 'batch-1');
    const two = await startSession(2, 'batch-2');
    const took = await recordStateChangesOnEvses(handle.db, [
      change(1, 'SuspendedEV', 20),
      change(2, 'SuspendedEVSE', 25),
      change(1, 'Charging', 15),
      change(1, 'Charging', 15), // a repeat
      change(1, 'SuspendedEV', 5), // older than the session's start
      change(3, 'Charging', 20), // no running session on that EVSE
      change(1, 'Charging', 20, 5000), // no EVSE can have that number
    ]);
    expect(took).toBe(2);
    expect(await statesOf(one)).toEqual(['06:15 Charging', '06:20 SuspendedEV']);
    expect(await statesOf(two)).toEqual(['06:25 SuspendedEVSE']);
    // In the order given, as one-by-one writes: the last change of station 1 was Charging (at 06:15).
    expect(await chargingState(one)).toBe('Charging');
    expect(await chargingState(two)).toBe('SuspendedEVSE');
  });

  it('changes sent through the service at once are all stored by the time each caller returns', async () => {
    const four = await startSession(4, 'batch-4');
    await Promise.all([
      service.changeState({ kind: 'ChargingStateChanged', ...change(4, 'SuspendedEV', 30) }),
      service.changeState({ kind: 'ChargingStateChanged', ...change(4, 'Charging', 35) }),
      service.changeState({ kind: 'ChargingStateChanged', ...change(4, 'Charging', 35, 0) }),
    ]);
    expect(await statesOf(four)).toEqual(['06:30 SuspendedEV', '06:35 Charging']);
    expect(await chargingState(four)).toBe('Charging');
    await service.flush();
  });
});
