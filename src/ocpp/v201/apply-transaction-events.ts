/**
 * Turns the stored TransactionEvents of one OCPP 2.0.1 transaction into SessionEvents, each event exactly once and
 * in seqNo order, whatever order they arrived in. Stations that were offline send their queued events late
 * (`offline: true`) and a retry may repeat one; both are normal. The rules:
 *
 * - The session starts from the Started event once the driver is known (the first event carrying an idToken; a
 *   transaction that starts at plug-in is authorized by a later Updated event), or at the end when nobody ever
 *   authorized it (then it is recorded and never billed).
 * - Updated events add their readings and charging-state changes.
 * - The Ended event ends (and bills) the session only when no earlier seqNo is missing, so that a reading still on
 *   its way from an offline station is billed. If the gap does not close within the configured wait, the session
 *   is ended anyway (see sweepOverdueEnds) and the missing seqNos are logged.
 *
 * Every step is idempotent (sessions are keyed by start, samples by time, state changes by time, an end by the
 * session's status), so re-applying after a crash between a step and its `applied_at` mark changes nothing.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, SessionRow } from '../../db/schema.ts';
import type { MeterSample } from '../../metering/meter-sample.ts';
import { normalizeV201SampledValues, type V201MeterValue } from '../../metering/normalize-v201.ts';
import { extractV201SignedValues } from '../../meters/extract-signed-values.ts';
import { storeSignedValues } from '../../meters/signed-values-store.ts';
import type { ChargingState } from '../../sessions/session-event.ts';
import type { EndOutcome, SessionService } from '../../sessions/session-service.ts';
import { findLastRegisterReading, findSessionByTransaction } from '../../sessions/session-store.ts';
import type { Clock } from '../../shared/clock.ts';
import { describeDataException } from '../data-error.ts';
import { idTagOf } from './id-token.ts';
import type { RecentChargingStates } from './recent-charging-states.ts';
import {
  type DirectApplication,
  loadTransactionEvent,
  loadTransactionEventKeys,
  loadTransactionEvents,
  markApplied,
  markReadingsApplied,
  type ReadingEventResult,
  type ReadingEventRow,
  type ReadingEventWriters,
  type ReadingSession,
  type StoredEventRecord,
  type StoredTransactionEvent,
  storeReadingEvents,
  type TransactionEventKey,
  type TransactionEventRequest,
} from './transaction-event-store.ts';

export type ApplyDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sessions: SessionService;
  /**
   * The group commits of the readings' fast path (applyUpdatedEvent, createReadingEventWriters); without them, one
   * statement per event and step.
   */
  readonly readingWriters?: ReadingEventWriters;
  /** The fast path's memory of repeated charging states (recent-charging-states.ts); without it all are recorded. */
  readonly recentStates?: RecentChargingStates;
};

export type ApplyResult = {
  /**
   * The session of the transaction, once started. Read before the events were applied when none of them is the
   * Ended event (its charging state may be older then), read again after an end.
   */
  readonly session: ReadingSession | undefined;
  /** The session's whole row, when this call read it (the general path does; a reading's fast path does not). */
  readonly sessionRow: SessionRow | undefined;
  /** Set when this call ended the session. */
  readonly ended: EndOutcome | undefined;
  /** Why events still wait (missing Started, missing seqNos before the Ended), if they do. */
  readonly waiting: string | undefined;
  /** Whether this call applied an Updated event with readings (a reason to send the running cost). */
  readonly newReadings: boolean;
  /**
   * The latest meterValue timestamp (ms) among the events read: all of the transaction's at its start and end, the
   * ones applied by this call otherwise (the readings of earlier events were checked when those were applied). A
   * running cost that is not due by it is not sent now; at worst (readings out of order after the station moved to
   * another node, whose last-cost memory is empty) it goes out with the next reading instead.
   */
  readonly readingsUpToMs: number | undefined;
};

const CHARGING_STATES = new Set<string>(['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle']);

export async function applyTransactionEvents(
  deps: ApplyDeps,
  stationId: string,
  transactionId: string,
  options: { force: boolean } = { force: false },
): Promise<ApplyResult> {
  const { db, logger, sessions } = deps;
  let session = await findSessionByTransaction(db, stationId, transactionId);
  // A started session: only the events not applied yet are needed, normally the one just stored. Reading the whole
  // history instead made each event cost more than the last (a session of 8 hours with a reading a minute has 480
  // events, each read again for every new one; measured: 807 Updated events/s against 12,000 MeterValues/s on OCPP
  // 1.6). Its end reads every event's seqNo and type (missing seqNos) but their payloads only when the Ended event
  // has no register reading of its own (meterStopOf below): decoding them all at every end cost about 8 µs of CPU
  // per reading the session had. The start (which may need the earliest reading) reads them all, once.
  const wholeHistory = session === undefined;
  const events = wholeHistory
    ? await loadTransactionEvents(db, stationId, transactionId)
    : await loadTransactionEvents(db, stationId, transactionId, { pendingOnly: true });
  const history = () => (wholeHistory ? events : loadTransactionEvents(db, stationId, transactionId));
  const started = events.find((e) => e.eventType === 'Started');
  const ended = events.find((e) => e.eventType === 'Ended');
  const applied: number[] = [];
  let waiting: string | undefined;
  let endOutcome: EndOutcome | undefined;
  let newReadings = false;
  const samplesOf = (event: StoredTransactionEvent): MeterSample[] =>
    event.payload.meterValue ? readSamples(event.payload, logger, stationId) : [];

  if (!session) {
    const authorizedBy = events.find((e) => e.payload.idToken && e.payload.idToken.type !== 'NoAuthorization');
    const base = started ?? (options.force && ended ? events[0] : undefined);
    if (!base) {
      return done(undefined, 'the Started event has not arrived yet');
    }
    if (!authorizedBy && !ended) {
      return done(undefined, 'no IdToken yet: the session starts when the driver is authorized');
    }
    const evse = events.find((e) => e.payload.evse)?.payload.evse;
    const outcome = await sessions.start({
      kind: 'TransactionStarted',
      stationId,
      evseId: evse?.id ?? 1,
      connectorId: evse?.connectorId ?? 1,
      idTag: idTagOf(authorizedBy?.payload.idToken),
      meterStartWh: meterStartOf(events, base, samplesOf),
      startedAt: base.eventAt,
      transactionId,
      ...(base.payload.reservationId !== undefined && { reservationId: base.payload.reservationId }),
    });
    if (!outcome.ok) {
      // Never billed to anyone: the station has no such EVSE (or is no longer accepted). The events stay logged.
      logger.warn({ stationId, transactionId, code: outcome.code }, outcome.message);
      await markApplied(
        db,
        stationId,
        transactionId,
        events.map((e) => e.seqNo),
        deps.clock.now(),
      );
      return done(undefined, undefined);
    }
    // The row as the start stored (or found) it: no need to read it back.
    session = outcome.session;
  }
  if (!session) return done(undefined, 'the session could not be read back');

  // The last event this call applies (in seqNo order), and whether its application finished: see `remember` below.
  let last: { readonly event: StoredTransactionEvent; finished: boolean } | undefined;
  for (const event of events) {
    if (event.appliedAt !== null || event.eventType === 'Ended') continue;
    last = { event, finished: false };
    try {
      if (await applyEvent(deps, session, stationId, event)) newReadings = true;
      last.finished = true;
    } catch (error) {
      // A value the database can never hold (a data exception, not a lost connection): retried, the event would
      // stay pending and block every later event of the transaction, its end and its bill, for good.
      const why = describeDataException(error);
      if (why === undefined) throw error;
      logger.warn(
        { stationId, transactionId, seqNo: event.seqNo, why },
        'a TransactionEvent cannot be applied: its readings are left out',
      );
    }
    applied.push(event.seqNo);
  }

  if (ended && ended.appliedAt === null) {
    // Only the pending events were read for a session started before this call: the others' seqNos are read apart.
    const keys = wholeHistory ? events : await loadTransactionEventKeys(db, stationId, transactionId);
    const missing = missingSeqNos(
      keys,
      keys.find((e) => e.eventType === 'Started'),
      ended,
    );
    if (missing.length > 0 && !options.force) {
      waiting = `waiting for seqNo ${missing.slice(0, 10).join(', ')} before ending`;
    } else {
      if (missing.length > 0) {
        logger.warn({ stationId, transactionId, missing }, 'ending a transaction with TransactionEvents missing');
      }
      // Signed meter data is kept raw with the session before the end, which verifies it (src/meters/).
      await storeSigned(deps, stationId, transactionId, ended);
      const endSamples = samplesOf(ended);
      endOutcome = await sessions.end({
        kind: 'TransactionEnded',
        stationId,
        transactionId,
        meterStopWh:
          meterStopOf([ended], ended, samplesOf) ??
          (await lastReadingBefore(db, session.id, await history(), ended, samplesOf)) ??
          session.meter_start_wh,
        endedAt: ended.eventAt,
        ...(ended.payload.transactionInfo.stoppedReason && { reason: ended.payload.transactionInfo.stoppedReason }),
        ...(ended.payload.idToken && { idTag: idTagOf(ended.payload.idToken) }),
        samples: endSamples,
      });
      applied.push(ended.seqNo);
    }
  }
  await markApplied(db, stationId, transactionId, applied, deps.clock.now());
  // The state the last applied event recorded (a Started event's, typically) lets the transaction's next reading,
  // repeating it, take the one statement of the fast path instead of recording it again (RecentChargingStates).
  if (last && endOutcome === undefined) {
    const state = last.finished ? last.event.payload.transactionInfo.chargingState : undefined;
    remember(deps, stationId, transactionId, last.event.seqNo, state);
  }
  // Without an Ended event nothing here changes what callers read from the row (its EVSE, idTag, authorization
  // and status stay as read above; samples and charging state do not matter to them): no need to read it again.
  if (ended === undefined) return done(session, waiting);
  return done(await findSessionByTransaction(db, stationId, transactionId), waiting);

  function done(row: SessionRow | undefined, why: string | undefined): ApplyResult {
    return {
      session: row,
      sessionRow: row,
      ended: endOutcome,
      waiting: why,
      newReadings,
      readingsUpToMs: latestTimestampMs(events),
    };
  }
}

/**
 * The fast path of every reading of a charging session, group-committed with the other stations' readings
 * (storeReadingEvents, which also reads the session, and markReadingsApplied) instead of four statements and two
 * commits of its own (read the session, store, read the pending events, apply, mark):
 *
 * - a reading whose application is only its samples (the usual one: no signed meter data, no charging state or the
 *   one the seqNo before carried, its session cached here as Active within its sample limit) is stored applied,
 *   with its samples, in one statement;
 * - any other Updated event is stored pending, applied, then marked applied;
 * - when the session has not started or has ended, or other events of the transaction are pending (an Ended event
 *   behind a missing seqNo, perhaps this one), the stored event is left to the general path, which applies them
 *   all in seqNo order (applyTransactionEvents).
 *
 * Returns undefined when the event is not an Updated one: the caller then stores it and runs applyTransactionEvents.
 *
 * The rules of the general path hold unchanged. An event is marked applied only with or after its effect, so an
 * event whose application did not finish (a crash, an error) stays pending and the next general pass applies it: the
 * transaction's next event, which finds it pending, or its Ended event (with the overdue sweep behind that). A
 * repeated seqNo is not applied again (the first one counts).
 */
export async function applyUpdatedEvent(
  deps: ApplyDeps,
  stationId: string,
  event: TransactionEventRequest,
  receivedAt: Date,
): Promise<{ created: boolean; stored: StoredEventRecord; result: ApplyResult } | undefined> {
  if (event.eventType !== 'Updated') return undefined;
  const transactionId = event.transactionInfo.transactionId;
  const eventAt = new Date(event.timestamp);
  if (Number.isNaN(eventAt.getTime())) return undefined; // the general path refuses it as it always did
  const asReceived: StoredTransactionEvent = {
    seqNo: event.seqNo,
    eventType: 'Updated',
    eventAt,
    offline: event.offline ?? false,
    payload: event,
    receivedAt,
    appliedAt: null,
  };
  const samples = event.meterValue ? readSamples(event, deps.logger, stationId) : [];
  const state = event.transactionInfo.chargingState;
  const direct = directApplication(deps, stationId, asReceived, samples);
  const row = { stationId, event, eventAt, receivedAt };
  let stored: ReadingEventResult | undefined;
  try {
    stored = await storeReadingEvent(deps, direct ? { ...row, direct } : row);
  } catch (error) {
    // A sample the database cannot hold (none should pass normalization's range checks) fails the statement that
    // stores the event with it: stored pending instead, the event is then applied the other way, which passes over
    // such a value (as applyTransactionEvents does).
    if (direct === undefined || describeDataException(error) === undefined) throw error;
  } finally {
    // Samples reserved but not stored: the other ways count them again (SessionService.sample).
    if (direct && !stored?.applied) deps.sessions.releaseSampleRows(stationId, transactionId, direct.samples.length);
  }
  // Not stored (it went without its payload) since the session was not as expected: stored again, with its payload.
  if (stored?.deferred) stored = undefined;
  stored ??= await storeReadingEvent(deps, row);
  const { created, applied, othersPending, session } = stored;
  // A repeat: the stored copy for the caller's comparison (a missing one, its station deleted meanwhile, is none).
  const storedEvent = created
    ? asReceived
    : ((await loadTransactionEvent(deps.db, stationId, transactionId, event.seqNo)) ?? asReceived);
  const answer = (newReadings: boolean, upToMs: number | undefined) => ({
    created,
    stored: storedEvent,
    result: {
      session,
      sessionRow: undefined,
      ended: undefined,
      waiting: undefined,
      newReadings,
      readingsUpToMs: upToMs,
    },
  });
  if (applied) {
    remember(deps, stationId, transactionId, event.seqNo, state);
    return answer(samples.length > 0, latestTimestampMs([asReceived]));
  }
  if (session?.status !== 'Active' || othersPending) {
    deps.recentStates?.forget(stationId, transactionId);
    return { created, stored: storedEvent, result: await applyTransactionEvents(deps, stationId, transactionId) };
  }
  // A repeat that found nothing pending: applied already, or being applied by the copy stored first (earlier in the
  // same batch, or on another node, whose row this statement's snapshot did not see); should that application
  // fail, its row stays pending for the transaction's next general pass.
  if (!created) return answer(false, undefined);
  // Not recorded again only when this node applied the seqNo just before with the same state and the session row
  // (read with the store) still carries it: another node may have recorded a state since.
  const repeatedState =
    state !== undefined &&
    session.charging_state === state &&
    deps.recentStates?.repeats(stationId, transactionId, event.seqNo, state) === true;
  let newReadings = false;
  try {
    newReadings = await applyEvent(deps, session, stationId, asReceived, repeatedState, samples);
  } catch (error) {
    // As in applyTransactionEvents: a value the database can never hold is passed over, not retried for good.
    const why = describeDataException(error);
    if (why === undefined) throw error;
    deps.logger.warn(
      { stationId, transactionId, seqNo: event.seqNo, why },
      'a TransactionEvent cannot be applied: its readings are left out',
    );
  }
  const key = { stationId, transactionId, seqNo: event.seqNo };
  if (deps.readingWriters) await deps.readingWriters.markApplied.enqueue(key);
  else await markReadingsApplied(deps.db, [key], deps.clock.now());
  remember(deps, stationId, transactionId, event.seqNo, state);
  return answer(newReadings, latestTimestampMs([asReceived]));
}

/**
 * The event's application as storeReadingEvents can do it with the event, when it is only samples: no signed meter
 * data (kept by a statement of its own), no charging state to record (none, or the one this node applied for the
 * seqNo just before), and sample rows this node may write for the session (SessionService.reserveSampleRows).
 */
function directApplication(
  deps: ApplyDeps,
  stationId: string,
  event: StoredTransactionEvent,
  samples: readonly MeterSample[],
): DirectApplication | undefined {
  const transactionId = event.payload.transactionInfo.transactionId;
  const state = event.payload.transactionInfo.chargingState;
  if (state !== undefined && deps.recentStates?.repeats(stationId, transactionId, event.seqNo, state) !== true) {
    return undefined;
  }
  if (signedValuesOf(event).length > 0) return undefined;
  const cached = deps.sessions.reserveSampleRows(stationId, transactionId, samples);
  if (cached === undefined) return undefined;
  return { sessionId: cached.sessionId, samples: cached.rows, repeatedState: state };
}

async function storeReadingEvent(deps: ApplyDeps, row: ReadingEventRow): Promise<ReadingEventResult> {
  return deps.readingWriters
    ? deps.readingWriters.store.enqueue(row)
    : ((await storeReadingEvents(deps.db, [row], deps.clock.now()))[0] as ReadingEventResult);
}

/** What RecentChargingStates must know once a reading is applied: its state, or that it carried none. */
function remember(deps: ApplyDeps, stationId: string, transactionId: string, seqNo: number, state: string | undefined) {
  if (state !== undefined) deps.recentStates?.applied(stationId, transactionId, seqNo, state);
  else deps.recentStates?.forget(stationId, transactionId);
}

/**
 * One event that is not the Ended one, applied to its started session: its signed meter data kept, its readings
 * stored, its charging state recorded. Each step is idempotent. Returns whether it was an Updated event with readings.
 */
async function applyEvent(
  deps: ApplyDeps,
  session: Pick<SessionRow, 'evse_id'>,
  stationId: string,
  event: StoredTransactionEvent,
  /** The event repeats the charging state of the seqNo just before it (RecentChargingStates): not recorded again. */
  repeatedState = false,
  /** Its samples, when the caller read them already (readSamples logs what it cannot read: once is enough). */
  read?: readonly MeterSample[],
): Promise<boolean> {
  const transactionId = event.payload.transactionInfo.transactionId;
  await storeSigned(deps, stationId, transactionId, event);
  // The state before the samples: should a sample fail for good (a value the database cannot hold, passed over by
  // the callers), the state history, which TIME and PARKING_TIME are priced on, still has the change.
  const state = event.payload.transactionInfo.chargingState;
  if (state && CHARGING_STATES.has(state) && !repeatedState) {
    await deps.sessions.changeState({
      kind: 'ChargingStateChanged',
      stationId,
      evseId: session.evse_id,
      state: state as ChargingState,
      at: event.eventAt,
    });
  }
  const samples = read ?? (event.payload.meterValue ? readSamples(event.payload, deps.logger, stationId) : []);
  if (samples.length > 0) await deps.sessions.sample({ kind: 'MeterSampled', stationId, transactionId, samples });
  return samples.length > 0 && event.eventType === 'Updated';
}

async function storeSigned(
  deps: ApplyDeps,
  stationId: string,
  transactionId: string,
  event: StoredTransactionEvent,
): Promise<void> {
  const values = signedValuesOf(event);
  if (values.length > 0) {
    await storeSignedValues(deps.db, { stationId, transactionId }, 'TransactionEvent', values, deps.clock.now());
  }
}

function signedValuesOf(event: StoredTransactionEvent) {
  return extractV201SignedValues(event.payload.meterValue as Parameters<typeof extractV201SignedValues>[0]);
}

/** JSON with object keys sorted: PostgreSQL's jsonb does not keep key order, so a plain comparison would differ. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export function sameContent(a: TransactionEventRequest, b: TransactionEventRequest): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function latestTimestampMs(events: readonly StoredTransactionEvent[]): number | undefined {
  let latest: number | undefined;
  for (const event of events) {
    for (const meterValue of event.payload.meterValue ?? []) {
      const ms = new Date((meterValue as { timestamp: string }).timestamp).getTime();
      if (!Number.isNaN(ms) && (latest === undefined || ms > latest)) latest = ms;
    }
  }
  return latest;
}

function readSamples(payload: TransactionEventRequest, logger: Logger, stationId: string): MeterSample[] {
  const { samples, problems } = normalizeV201SampledValues((payload.meterValue ?? []) as V201MeterValue[]);
  if (problems.length > 0) logger.warn({ stationId, problems }, 'unreadable meter values in a TransactionEvent');
  return samples;
}

/** Whole Wh of a register in mWh: the same rounding (down) for the start, the running cost and the end. */
export function wholeWh(milliWh: bigint): bigint {
  return milliWh / 1000n;
}

function meterStartOf(
  events: readonly StoredTransactionEvent[],
  base: StoredTransactionEvent,
  samplesOf: (e: StoredTransactionEvent) => MeterSample[],
): bigint {
  const own = samplesOf(base).find((s) => s.energyRegisterMilliWh !== undefined);
  if (own?.energyRegisterMilliWh !== undefined) return wholeWh(own.energyRegisterMilliWh);
  // No reading at the start: the earliest reading of the transaction is the best evidence of the start register.
  const earliest = events
    .flatMap(samplesOf)
    .filter((s) => s.energyRegisterMilliWh !== undefined)
    .sort((a, b) => a.at.getTime() - b.at.getTime())[0];
  return earliest?.energyRegisterMilliWh !== undefined ? wholeWh(earliest.energyRegisterMilliWh) : 0n;
}

function meterStopOf(
  events: readonly StoredTransactionEvent[],
  ended: StoredTransactionEvent,
  samplesOf: (e: StoredTransactionEvent) => MeterSample[],
): bigint | undefined {
  const last = lastRegisterReading(events, ended, samplesOf);
  return last?.energyRegisterMilliWh !== undefined ? wholeWh(last.energyRegisterMilliWh) : undefined;
}

/** The latest reading with an energy register among the events' samples, taken at or before the Ended event. */
function lastRegisterReading(
  events: readonly StoredTransactionEvent[],
  ended: StoredTransactionEvent,
  samplesOf: (e: StoredTransactionEvent) => MeterSample[],
): (MeterSample & { readonly energyRegisterMilliWh: bigint }) | undefined {
  return events
    .flatMap(samplesOf)
    .filter(
      (s): s is MeterSample & { readonly energyRegisterMilliWh: bigint } =>
        s.energyRegisterMilliWh !== undefined && s.at.getTime() <= ended.eventAt.getTime(),
    )
    .sort((a, b) => a.at.getTime() - b.at.getTime())
    .at(-1);
}

/**
 * The meter stop of an Ended event without a register reading of its own: the transaction's latest reading at or
 * before it, from the events that kept their payloads and from the session's samples (which hold the readings of
 * those applied as they were stored, whose payloads were not kept). A reading the session's sample limit left out
 * is in its event's payload (such an event is never applied as stored). At equal times the event's reading counts.
 */
async function lastReadingBefore(
  db: Kysely<Database>,
  sessionId: string,
  events: readonly StoredTransactionEvent[],
  ended: StoredTransactionEvent,
  samplesOf: (e: StoredTransactionEvent) => MeterSample[],
): Promise<bigint | undefined> {
  const fromEvents = lastRegisterReading(events, ended, samplesOf);
  const fromSamples = await findLastRegisterReading(db, sessionId, ended.eventAt);
  const last =
    fromSamples && (!fromEvents || fromSamples.at.getTime() > fromEvents.at.getTime())
      ? fromSamples.registerMilliWh
      : fromEvents?.energyRegisterMilliWh;
  return last === undefined ? undefined : wholeWh(last);
}

/** seqNos between the Started and the Ended event that have not arrived; all of them when Started is missing. */
function missingSeqNos(
  events: readonly TransactionEventKey[],
  started: TransactionEventKey | undefined,
  ended: TransactionEventKey,
): number[] {
  const have = new Set(events.map((e) => e.seqNo));
  const from = started ? started.seqNo : 0;
  const missing: number[] = [];
  for (let seq = from; seq < ended.seqNo && missing.length < 1000; seq++) if (!have.has(seq)) missing.push(seq);
  if (!started && missing.length === 0) missing.push(-1);
  return missing;
}
