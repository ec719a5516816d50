/**
 * The statement of OCPP 2.0.1 readings (storeReadingEvents) on a real database (both): an event whose application is
 * only its samples is stored applied with them, in one statement, without its payload, and only when nothing speaks
 * against it (the session Active and the one expected, nothing else of the transaction pending, the repeated state
 * still the session's), else it is not stored at all and answered `deferred` (it came without its payload); any
 * other event is stored pending with its payload and nothing else is written; a repeat writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import {
  type ReadingEventRow,
  storeReadingEvents,
  type TransactionEventRequest,
} from '../src/ocpp/v201/transaction-event-store.ts';
import { demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import type { SessionService } from '../src/sessions/session-service.ts';
import type { SampleRow } from '../src/sessions/session-store.ts';
import { createTestSessionService, startDemoSession } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const STARTED_AT = new Date('2026-11-20T06:00:00Z');
const NOW = new Date('2026-11-20T08:00:00Z');

describe.skipIf(skip)('the readings statement of OCPP 2.0.1', () => {
  let handle: DatabaseHandle;
  let service: SessionService;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
    service = createTestSessionService(handle.db, NOW);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const minute = (m: number) => new Date(STARTED_AT.getTime() + m * 60_000);
  const sample = (sessionId: string, m: number, registerWh: string): SampleRow => ({
    session_id: sessionId,
    sampled_at: minute(m),
    context: 'Sample.Periodic',
    register_wh: registerWh,
    power_w: '11000.000',
    current_a: null,
    soc_percent: null,
  });
  const reading = (
    station: number,
    transactionId: string,
    seqNo: number,
    m: number,
    direct?: ReadingEventRow['direct'],
  ): ReadingEventRow => {
    const event: TransactionEventRequest = {
      eventType: 'Updated',
      timestamp: minute(m).toISOString(),
      triggerReason: 'MeterValuePeriodic',
      seqNo,
      transactionInfo: { transactionId, chargingState: 'Charging' },
      meterValue: [{ timestamp: minute(m).toISOString(), sampledValue: [{ value: m * 100 }] }],
    };
    return { stationId: demoStationId(station), event, eventAt: minute(m), receivedAt: NOW, ...(direct && { direct }) };
  };
  const eventsOf = (transactionId: string) =>
    handle.db
      .selectFrom('ocpp_transaction_events')
      .select(['seq_no', 'applied_at'])
      .where('transaction_id', '=', transactionId)
      .orderBy('seq_no')
      .execute()
      .then((rows) => rows.map((r) => [r.seq_no, r.applied_at?.toISOString() ?? null]));
  /** seqNo and the stored payload's own seqNo (null: no payload kept). */
  const payloadsOf = (transactionId: string) =>
    handle.db
      .selectFrom('ocpp_transaction_events')
      .select(['seq_no', 'payload'])
      .where('transaction_id', '=', transactionId)
      .orderBy('seq_no')
      .execute()
      .then((rows) =>
        rows.map((r) => {
          const payload = (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { seqNo: number };
          return [r.seq_no, payload === null ? null : payload.seqNo];
        }),
      );
  const samplesOf = (sessionId: string) =>
    handle.db
      .selectFrom('meter_samples')
      .select(['sampled_at', 'register_wh'])
      .where('session_id', '=', sessionId)
      .orderBy('sampled_at')
      .execute()
      .then((rows) => rows.map((r) => [r.sampled_at.toISOString(), r.register_wh]));

  it('stores a reading applied with its samples, and a repeat of its seqNo with other samples not at all', async () => {
    const sessionId = await startDemoSession(service, 1, 'tx-direct', STARTED_AT);
    const direct = { sessionId, samples: [sample(sessionId, 10, '1000.000')], repeatedState: 'Charging' };
    const [first] = await storeReadingEvents(handle.db, [reading(1, 'tx-direct', 1, 10, direct)], NOW);
    expect(first).toMatchObject({ created: true, applied: true, othersPending: false });
    expect(first?.session).toMatchObject({ id: sessionId, status: 'Active', evse_id: 1, charging_state: 'Charging' });
    expect(first?.session?.started_at.toISOString()).toBe(STARTED_AT.toISOString());
    // The same seqNo twice in one batch and once more later, each with other samples: the first copy counts.
    // Each copy's sample at a time of its own, so that a copy's sample stored by mistake would show.
    const other = (m: number) => ({
      sessionId,
      samples: [sample(sessionId, m, `${m}00.000`)],
      repeatedState: 'Charging',
    });
    const repeats = await storeReadingEvents(
      handle.db,
      [reading(1, 'tx-direct', 2, 20, other(20)), reading(1, 'tx-direct', 2, 21, other(21))],
      NOW,
    );
    expect(repeats.map((r) => [r.created, r.applied])).toEqual([
      [true, true],
      [false, false],
    ]);
    const [later] = await storeReadingEvents(handle.db, [reading(1, 'tx-direct', 1, 30, other(30))], NOW);
    expect(later).toMatchObject({ created: false, applied: false, othersPending: false });
    expect(await eventsOf('tx-direct')).toEqual([
      [1, NOW.toISOString()],
      [2, NOW.toISOString()],
    ]);
    expect(await samplesOf(sessionId)).toEqual([
      [minute(10).toISOString(), '1000.000'],
      [minute(20).toISOString(), '2000.000'],
    ]);
    // Applied as stored: no payload kept (the frame is in the message log, the readings are the samples above).
    expect(await payloadsOf('tx-direct')).toEqual([
      [1, null],
      [2, null],
    ]);
  });

  it('defers a direct reading, storing nothing, when anything speaks against applying it at once; stored again it waits', async () => {
    const sessionId = await startDemoSession(service, 2, 'tx-pending', STARTED_AT);
    const direct = (m: number, state: string | undefined = undefined) => ({
      sessionId,
      samples: [sample(sessionId, m, `${m}000.000`)],
      repeatedState: state,
    });
    const deferred = { created: false, applied: false, deferred: true };
    // Another state than the session's: it must be recorded, by the caller, which stores the event again as it is.
    const [otherState] = await storeReadingEvents(
      handle.db,
      [reading(2, 'tx-pending', 1, 10, direct(10, 'SuspendedEV'))],
      NOW,
    );
    expect(otherState).toMatchObject({ ...deferred, othersPending: false });
    expect(await eventsOf('tx-pending')).toEqual([]);
    const [storedAgain] = await storeReadingEvents(handle.db, [reading(2, 'tx-pending', 1, 10)], NOW);
    expect(storedAgain).toMatchObject({ created: true, applied: false, deferred: false, othersPending: false });
    // seqNo 1 now waits: the next one is left to the general path, which applies both in order.
    const [behind] = await storeReadingEvents(handle.db, [reading(2, 'tx-pending', 2, 20, direct(20))], NOW);
    expect(behind).toMatchObject({ ...deferred, othersPending: true });
    const [behindAgain] = await storeReadingEvents(handle.db, [reading(2, 'tx-pending', 2, 20)], NOW);
    expect(behindAgain).toMatchObject({ created: true, applied: false, othersPending: true });
    // Another session than the caller's cache names: deferred; no application asked for: pending.
    await handle.db.updateTable('ocpp_transaction_events').set({ applied_at: NOW }).execute();
    const [wrongSession] = await storeReadingEvents(
      handle.db,
      [reading(2, 'tx-pending', 3, 30, { ...direct(30), sessionId: '00000000-0000-4000-8000-000000000000' })],
      NOW,
    );
    expect(wrongSession).toMatchObject(deferred);
    const [none] = await storeReadingEvents(handle.db, [reading(2, 'tx-pending', 4, 40)], NOW);
    expect(none).toMatchObject({ created: true, applied: false, deferred: false, othersPending: false });
    await handle.db.updateTable('ocpp_transaction_events').set({ applied_at: NOW }).execute();
    // The session ended (through another node, say): the caller's cache is out of date.
    await handle.db.updateTable('sessions').set({ status: 'Completed' }).where('id', '=', sessionId).execute();
    const [ended] = await storeReadingEvents(handle.db, [reading(2, 'tx-pending', 5, 50, direct(50))], NOW);
    expect(ended).toMatchObject({ ...deferred, othersPending: false });
    expect(ended?.session?.status).toBe('Completed');
    expect(await eventsOf('tx-pending')).toEqual([
      [1, NOW.toISOString()],
      [2, NOW.toISOString()],
      [4, NOW.toISOString()],
    ]);
    expect(await samplesOf(sessionId)).toEqual([]);
    // Every row stored keeps its payload: none was applied as it was stored.
    expect(await payloadsOf('tx-pending')).toEqual([
      [1, 1],
      [2, 2],
      [4, 4],
    ]);
  });

  it('defers every copy of a seqNo in one batch when its first copy is deferred', async () => {
    const sessionId = await startDemoSession(service, 5, 'tx-copies', STARTED_AT);
    await handle.db.updateTable('sessions').set({ status: 'Completed' }).where('id', '=', sessionId).execute();
    const direct = { sessionId, samples: [sample(sessionId, 10, '1000.000')], repeatedState: undefined };
    // The second copy came without `direct` (with its payload): had it been answered a plain repeat, its station
    // would have been acknowledged for an event the first copy's caller has yet to store.
    const copies = await storeReadingEvents(
      handle.db,
      [reading(5, 'tx-copies', 1, 10, direct), reading(5, 'tx-copies', 1, 10)],
      NOW,
    );
    expect(copies.map((r) => [r.created, r.applied, r.deferred])).toEqual([
      [false, false, true],
      [false, false, true],
    ]);
    expect(await eventsOf('tx-copies')).toEqual([]);
  });

  it('defers a direct reading whose session has no charging state (a null decision), not losing it (found by a review)', async () => {
    const sessionId = await startDemoSession(service, 6, 'tx-null-state', STARTED_AT);
    await handle.db.updateTable('sessions').set({ charging_state: null }).where('id', '=', sessionId).execute();
    const direct = { sessionId, samples: [sample(sessionId, 10, '1000.000')], repeatedState: 'Charging' };
    // s.charging_state = 'Charging' is null here, not false: before, the row was neither stored nor deferred, and
    // its caller answered the station as for a repeat.
    const [first] = await storeReadingEvents(handle.db, [reading(6, 'tx-null-state', 1, 10, direct)], NOW);
    expect(first).toMatchObject({ created: false, applied: false, deferred: true });
    expect(await eventsOf('tx-null-state')).toEqual([]);
    expect(await samplesOf(sessionId)).toEqual([]);
  });

  it('answers a reading of a transaction with no session yet with none, stored pending', async () => {
    const [early] = await storeReadingEvents(handle.db, [reading(3, 'tx-not-started', 1, 10)], NOW);
    expect(early).toEqual({ created: true, applied: false, deferred: false, othersPending: false, session: undefined });
    expect(await eventsOf('tx-not-started')).toEqual([[1, null]]);
    expect(await payloadsOf('tx-not-started')).toEqual([[1, 1]]);
  });

  it('refuses a row without its payload that is not applied (the table check)', async () => {
    await expect(
      handle.db
        .insertInto('ocpp_transaction_events')
        .values({
          station_id: demoStationId(3),
          transaction_id: 'tx-no-payload',
          seq_no: 1,
          event_type: 'Updated',
          event_at: NOW,
          payload: null,
          received_at: NOW,
          applied_at: null,
        })
        .execute(),
    ).rejects.toMatchObject({ code: '23514', constraint: 'ocpp_transaction_events_payload_kept' });
  });

  it('fails the statement, writing nothing, on a sample the column cannot hold (the caller stores it pending)', async () => {
    const sessionId = await startDemoSession(service, 4, 'tx-beyond', STARTED_AT);
    const direct = { sessionId, samples: [sample(sessionId, 10, '1000000000000000000.000')], repeatedState: undefined };
    await expect(storeReadingEvents(handle.db, [reading(4, 'tx-beyond', 1, 10, direct)], NOW)).rejects.toMatchObject({
      code: '22003',
    });
    expect(await eventsOf('tx-beyond')).toEqual([]);
    expect(await samplesOf(sessionId)).toEqual([]);
  });
});
