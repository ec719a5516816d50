/**
 * Stored OCPP 2.0.1 TransactionEvents: one row per (station, transaction, seqNo), applied once. A reading applied as
 * it was stored (storeReadingEvents' `direct` application) keeps no payload (migration 0020): its frame is in the
 * message log, its readings are its session's samples. Every other event keeps its payload, which the general path
 * reads.
 */
import { type Kysely, sql } from 'kysely';
import { BatchWriter } from '../../db/batch-writer.ts';
import type { Database, SessionRow } from '../../db/schema.ts';
import type { SampleRow } from '../../sessions/session-store.ts';
import { assert } from '../../shared/assert.ts';

/** Readings' events per statement; the rest waits for the next one (a statement per batch, one commit). */
const READING_EVENT_BATCH_ITEMS = 500;

export type StoredTransactionEvent = {
  readonly seqNo: number;
  readonly eventType: 'Started' | 'Updated' | 'Ended';
  readonly eventAt: Date;
  readonly offline: boolean;
  readonly payload: TransactionEventRequest;
  readonly receivedAt: Date;
  readonly appliedAt: Date | null;
};

/**
 * A stored event as read back: without its payload when it is a reading applied as it was stored (then its readings
 * are its session's samples, and the frame the station sent is in the message log).
 */
export type StoredEventRecord = Omit<StoredTransactionEvent, 'payload'> & {
  readonly payload: TransactionEventRequest | undefined;
};

/** The TransactionEventRequest fields Voltbill reads (validated against the official schema before). */
export type TransactionEventRequest = {
  eventType: 'Started' | 'Updated' | 'Ended';
  timestamp: string;
  triggerReason: string;
  seqNo: number;
  offline?: boolean;
  reservationId?: number;
  transactionInfo: {
    transactionId: string;
    chargingState?: string;
    stoppedReason?: string;
    remoteStartId?: number;
  };
  idToken?: { idToken: string; type: string };
  evse?: { id: number; connectorId?: number };
  meterValue?: { timestamp: string; sampledValue: { value: number; [key: string]: unknown }[] }[];
};

/** Stores the event unless its seqNo is stored already; `created: false` with the stored one on a repeat. */
export async function storeTransactionEvent(
  db: Kysely<Database>,
  stationId: string,
  event: TransactionEventRequest,
  receivedAt: Date,
): Promise<{ created: boolean; stored: StoredEventRecord }> {
  const inserted = await db
    .insertInto('ocpp_transaction_events')
    .values({
      station_id: stationId,
      transaction_id: event.transactionInfo.transactionId,
      seq_no: event.seqNo,
      event_type: event.eventType,
      event_at: new Date(event.timestamp),
      offline: event.offline ?? false,
      payload: JSON.stringify(event),
      received_at: receivedAt,
    })
    .onConflict((oc) => oc.columns(['station_id', 'transaction_id', 'seq_no']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { created: true, stored: toStored(inserted) };
  const existing = await db
    .selectFrom('ocpp_transaction_events')
    .selectAll()
    .where('station_id', '=', stationId)
    .where('transaction_id', '=', event.transactionInfo.transactionId)
    .where('seq_no', '=', event.seqNo)
    .executeTakeFirstOrThrow();
  return { created: false, stored: toStored(existing) };
}

/** A reading's event to store (see storeReadingEvents). */
export type ReadingEventRow = {
  readonly stationId: string;
  readonly event: TransactionEventRequest;
  /** The event's timestamp, read by the caller (an unreadable one fails its own call, not the batch). */
  readonly eventAt: Date;
  readonly receivedAt: Date;
  /**
   * The event's whole application, when it is only its samples (no signed meter data, no charging state to
   * record): stored with the event, applied at once, if the statement finds the session as the caller expects. Such
   * an event goes without its payload, which is not stored (see the file's head); should the statement not find the
   * session as expected, it stores nothing and answers `deferred`, and the caller stores the event again without
   * `direct` (with its payload) to be applied the general way.
   */
  readonly direct?: DirectApplication;
};

/** See ReadingEventRow.direct. */
export type DirectApplication = {
  /** The session the samples belong to (the caller's cache); the event is applied at once only if it is the one. */
  readonly sessionId: string;
  readonly samples: readonly SampleRow[];
  /**
   * The event's charging state, which the caller saw as a repeat of the seqNo just before: applied at once only if
   * the session still carries it (another node may have recorded a change since). Undefined: none in the event.
   */
  readonly repeatedState: string | undefined;
};

/** What a reading's path needs of its session, read by the statement that stores the event (storeReadingEvents). */
export type ReadingSession = Pick<
  SessionRow,
  'id' | 'status' | 'evse_id' | 'charging_state' | 'started_at' | 'id_tag' | 'authorization_status'
>;

/**
 * Whether the row was inserted (not a repeat of a stored seqNo); whether it was applied at once, with its samples
 * (its `direct` application); whether it was not stored at all, its direct application refused (`deferred`: to be
 * stored again with its payload; every copy of its key in the batch is deferred, the first one decides); whether
 * other events of its transaction were pending (not applied) when it was stored
 * (a pending repeat of this very seqNo included); and the transaction's session as the same statement saw it (none
 * before it started).
 */
export type ReadingEventResult = {
  readonly created: boolean;
  readonly applied: boolean;
  readonly deferred: boolean;
  readonly othersPending: boolean;
  readonly session: ReadingSession | undefined;
};

/** The key of a stored event, to mark it applied (markReadingsApplied). */
export type EventKey = { readonly stationId: string; readonly transactionId: string; readonly seqNo: number };

/**
 * Stores the events of readings (Updated events) as storeTransactionEvent does, in one statement for a whole batch
 * (group-committed by the v2.0.1 handlers, as the message log and the samples are). The same statement:
 *
 * - reads each event's session, so that a reading needs no statement of its own before it is applied;
 * - says whether other events of its transaction wait (an Ended event behind a missing seqNo, events stored before
 *   the session started, an earlier copy of this seqNo not yet applied): its caller then applies them all through
 *   applyTransactionEvents;
 * - applies an event whose application is only its samples (`direct`) at once: the event is stored applied and
 *   its samples with it, one row written once and atomic with its effect, when the session is Active, nothing else
 *   of the transaction is pending, and the session carries the state the caller saw repeated; otherwise it is not
 *   stored (it came without its payload) and answered `deferred`. Any other event is stored pending, for its caller
 *   to apply and mark applied (markReadingsApplied).
 *
 * The statement reads the database as it was when it began: an earlier seqNo of a transaction that the same batch
 * stores pending does not keep a later one from being applied at once. Harmless: such a later event carries only
 * samples (keyed by their time) and a charging state the session already has.
 *
 * Samples are stored as insertSamples stores them (of an Active session only, a retried reading ignored). A repeat
 * of a stored seqNo leaves the stored row as it is and stores nothing (`created: false`); within one batch only the
 * first of a key counts.
 */
export async function storeReadingEvents(
  db: Kysely<Database>,
  rows: readonly ReadingEventRow[],
  appliedAt: Date,
): Promise<ReadingEventResult[]> {
  if (rows.length === 0) return [];
  // Each row's session and pending events are read by their keys, lateral with a limit: otherwise the planner
  // turned them into joins that read every session and every pending event (its generic plan guesses 100 rows for
  // the document), a cost that grew with the history (test/hot-path-plans.test.ts).
  const result = await sql<
    {
      created: boolean;
      applied: boolean;
      deferred: boolean;
      others_pending: boolean;
      started_at_ms: number | null;
    } & {
      [K in Exclude<keyof ReadingSession, 'started_at'>]: ReadingSession[K] | null;
    }
  >`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows.map(toReadingRecord))}::jsonb)
        as v(n int4, station_id text, transaction_id text, seq_no int4, event_type text, event_at timestamptz,
             offline bool, payload jsonb, received_at timestamptz, direct_session_id uuid, repeated_state text,
             samples jsonb)
    ), first as (
      select distinct on (station_id, transaction_id, seq_no) * from v order by station_id, transaction_id, seq_no, n
    ), decided as (
      select f.*, s.id as session_id, s.status, s.evse_id, s.charging_state, s.id_tag, s.authorization_status,
             s.started_at, pe.pending is not null as others_pending,
             -- Never null: a null (no session row, a session with no charging state) would neither store the
             -- event nor defer it below, and its station would be answered for an event stored nowhere.
             coalesce(f.direct_session_id is not null and pe.pending is null
               and s.id = f.direct_session_id and s.status = 'Active'
               and (f.repeated_state is null or s.charging_state = f.repeated_state), false) as apply_now
      from first f
      left join lateral (
        select id, status, evse_id, charging_state, id_tag, authorization_status, started_at from sessions
        where station_id = f.station_id and transaction_id = f.transaction_id limit 1
      ) s on true
      left join lateral (
        select true as pending from ocpp_transaction_events
        where station_id = f.station_id and transaction_id = f.transaction_id and applied_at is null limit 1
      ) pe on true
    ), inserted as (
      insert into ocpp_transaction_events
        (station_id, transaction_id, seq_no, event_type, event_at, offline, payload, received_at, applied_at)
      select station_id, transaction_id, seq_no, event_type, event_at, offline, payload, received_at,
             case when apply_now then ${appliedAt.toISOString()}::timestamptz end
      from decided
      where payload is not null or apply_now
      on conflict (station_id, transaction_id, seq_no) do nothing
      returning station_id, transaction_id, seq_no, applied_at
    ), sampled as (
      insert into meter_samples (session_id, sampled_at, context, register_wh, power_w, current_a, soc_percent)
      select d.direct_session_id, x.sampled_at, x.context, x.register_wh, x.power_w, x.current_a, x.soc_percent
      from inserted i
      join decided d using (station_id, transaction_id, seq_no)
      cross join lateral jsonb_to_recordset(d.samples)
        as x(sampled_at timestamptz, context text, register_wh numeric, power_w numeric, current_a numeric,
             soc_percent numeric)
      where i.applied_at is not null
      on conflict (session_id, sampled_at, context) do nothing
    )
    select (i.seq_no is not null and d.n = v.n) as created,
           (i.seq_no is not null and d.n = v.n and i.applied_at is not null) as applied,
           (d.payload is null and not d.apply_now) as deferred, d.others_pending, d.session_id as id, d.status,
           d.evse_id, d.charging_state, d.id_tag,
           d.authorization_status, (extract(epoch from d.started_at) * 1000)::float8 as started_at_ms
    from v
    join decided d using (station_id, transaction_id, seq_no)
    left join inserted i using (station_id, transaction_id, seq_no)
    order by v.n`.execute(db);
  if (result.rows.length !== rows.length) {
    throw new Error(`storeReadingEvents: ${result.rows.length} answers for ${rows.length} events`);
  }
  for (const r of result.rows) {
    // Each answer decides whether its station is told the event is stored: a null would read as "not deferred".
    assert(
      typeof r.created === 'boolean' && typeof r.applied === 'boolean' && typeof r.deferred === 'boolean',
      `storeReadingEvents: an answer that is not a boolean (created ${r.created}, applied ${r.applied}, deferred ${r.deferred})`,
    );
  }
  return result.rows.map((r) => ({
    created: r.created,
    applied: r.applied,
    deferred: r.deferred,
    othersPending: r.others_pending,
    session:
      r.id === null
        ? undefined
        : {
            id: r.id,
            status: r.status as SessionRow['status'],
            evse_id: r.evse_id as number,
            charging_state: r.charging_state,
            started_at: new Date(r.started_at_ms as number),
            id_tag: r.id_tag as string,
            authorization_status: r.authorization_status as string,
          },
  }));
}

/**
 * One event of storeReadingEvents' batch as a record of the JSON document the statement reads: one parameter, and
 * the event's payload a nested object rather than a string escaped once for JSON and again for an array literal.
 */
function toReadingRecord(row: ReadingEventRow, index: number) {
  return {
    n: index + 1,
    station_id: row.stationId,
    transaction_id: row.event.transactionInfo.transactionId,
    seq_no: row.event.seqNo,
    event_type: row.event.eventType,
    event_at: row.eventAt.toISOString(),
    offline: row.event.offline ?? false,
    // A direct application stores no payload (the file's head): sent only when the event may be stored pending.
    payload: row.direct ? null : row.event,
    received_at: row.receivedAt.toISOString(),
    direct_session_id: row.direct?.sessionId ?? null,
    repeated_state: row.direct?.repeatedState ?? null,
    samples: row.direct?.samples ?? null, // sampled_at a Date: JSON.stringify writes it as its ISO text
  };
}

/** Marks events applied, a batch in one statement (markApplied is the same for one transaction's seqNos). */
export async function markReadingsApplied(db: Kysely<Database>, keys: readonly EventKey[], at: Date): Promise<void> {
  if (keys.length === 0) return;
  await sql`
    update ocpp_transaction_events e set applied_at = ${at.toISOString()}::timestamptz
    from unnest(${keys.map((k) => k.stationId)}::text[], ${keys.map((k) => k.transactionId)}::text[],
                ${keys.map((k) => k.seqNo)}::int4[]) as k(station_id, transaction_id, seq_no)
    where e.station_id = k.station_id and e.transaction_id = k.transaction_id and e.seq_no = k.seq_no
      and e.applied_at is null`.execute(db);
}

export type ReadingEventWriters = {
  readonly store: BatchWriter<ReadingEventRow, ReadingEventResult>;
  readonly markApplied: BatchWriter<EventKey>;
  flush(): Promise<void>;
};

/** The group commits of storeReadingEvents and markReadingsApplied: one pair per node, flushed at close. */
export function createReadingEventWriters(db: Kysely<Database>, clock: { now(): Date }): ReadingEventWriters {
  const limits = { maxBatchItems: READING_EVENT_BATCH_ITEMS, maxQueuedItems: READING_EVENT_BATCH_ITEMS * 50 };
  const store = new BatchWriter<ReadingEventRow, ReadingEventResult>(
    (rows) => storeReadingEvents(db, rows, clock.now()),
    limits,
  );
  const markApplied = new BatchWriter<EventKey>((keys) => markReadingsApplied(db, keys, clock.now()), limits);
  return {
    store,
    markApplied,
    async flush() {
      await store.flush();
      await markApplied.flush();
    },
  };
}

/** One stored event, or undefined. */
export async function loadTransactionEvent(
  db: Kysely<Database>,
  stationId: string,
  transactionId: string,
  seqNo: number,
): Promise<StoredEventRecord | undefined> {
  const row = await db
    .selectFrom('ocpp_transaction_events')
    .selectAll()
    .where('station_id', '=', stationId)
    .where('transaction_id', '=', transactionId)
    .where('seq_no', '=', seqNo)
    .executeTakeFirst();
  return row && toStored(row);
}

/**
 * The transaction's events in seqNo order: all of them, or with `pendingOnly` only those not applied yet (through the
 * partial index `ocpp_transaction_events_pending`, so the read does not grow with the transaction's history).
 *
 * A pending event always has its payload (the table's check `ocpp_transaction_events_payload_kept`). A reading
 * applied as it was stored has none; in the whole history it stands with its keys, time and an empty reading
 * (standIn): its readings are its session's samples, which a reader of readings must take from there
 * (findLastRegisterReading). Only a started session has such readings.
 */
export async function loadTransactionEvents(
  db: Kysely<Database>,
  stationId: string,
  transactionId: string,
  options: { readonly pendingOnly: boolean } = { pendingOnly: false },
): Promise<StoredTransactionEvent[]> {
  let query = db
    .selectFrom('ocpp_transaction_events')
    .selectAll()
    .where('station_id', '=', stationId)
    .where('transaction_id', '=', transactionId);
  if (options.pendingOnly) query = query.where('applied_at', 'is', null);
  const rows = await query.orderBy('seq_no').execute();
  return rows.map((row) => {
    const record = toStored(row);
    return record.payload === undefined ? { ...record, payload: standIn(record, transactionId) } : record;
  }) as StoredTransactionEvent[];
}

/** See loadTransactionEvents: a reading applied as it was stored, its keys and time only (no meterValue). */
function standIn(record: StoredEventRecord, transactionId: string): TransactionEventRequest {
  return {
    eventType: record.eventType,
    timestamp: record.eventAt.toISOString(),
    triggerReason: 'MeterValuePeriodic',
    seqNo: record.seqNo,
    offline: record.offline,
    transactionInfo: { transactionId },
  };
}

/** What the end of a transaction needs of every event to find missing seqNos: its seqNo and type, not its payload. */
export type TransactionEventKey = Pick<StoredTransactionEvent, 'seqNo' | 'eventType'>;

/** The seqNo and type of each of the transaction's events, in seqNo order (by the primary key, payloads not read). */
export async function loadTransactionEventKeys(
  db: Kysely<Database>,
  stationId: string,
  transactionId: string,
): Promise<TransactionEventKey[]> {
  const rows = await db
    .selectFrom('ocpp_transaction_events')
    .select(['seq_no', 'event_type'])
    .where('station_id', '=', stationId)
    .where('transaction_id', '=', transactionId)
    .orderBy('seq_no')
    .execute();
  return rows.map((row) => ({ seqNo: row.seq_no, eventType: row.event_type as TransactionEventKey['eventType'] }));
}

export async function markApplied(
  db: Kysely<Database>,
  stationId: string,
  transactionId: string,
  seqNos: readonly number[],
  at: Date,
): Promise<void> {
  if (seqNos.length === 0) return;
  await db
    .updateTable('ocpp_transaction_events')
    .set({ applied_at: at })
    .where('station_id', '=', stationId)
    .where('transaction_id', '=', transactionId)
    .where('seq_no', 'in', [...seqNos])
    .execute();
}

/** Transactions whose Ended event has waited for missing earlier events since before `receivedBefore`. */
export async function findOverdueEnds(
  db: Kysely<Database>,
  receivedBefore: Date,
): Promise<{ stationId: string; transactionId: string }[]> {
  const rows = await db
    .selectFrom('ocpp_transaction_events')
    .select(['station_id', 'transaction_id'])
    .where('event_type', '=', 'Ended')
    .where('applied_at', 'is', null)
    .where('received_at', '<=', receivedBefore)
    .limit(1000)
    .execute();
  return rows.map((r) => ({ stationId: r.station_id, transactionId: r.transaction_id }));
}

type Row = {
  seq_no: number;
  event_type: 'Started' | 'Updated' | 'Ended';
  event_at: Date;
  offline: boolean;
  payload: unknown;
  received_at: Date;
  applied_at: Date | null;
};

function toStored(row: Row): StoredEventRecord {
  const payload = (
    row.payload === null ? undefined : typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload
  ) as TransactionEventRequest | undefined;
  return {
    seqNo: row.seq_no,
    eventType: row.event_type,
    eventAt: row.event_at,
    offline: row.offline,
    payload,
    receivedAt: row.received_at,
    appliedAt: row.applied_at,
  };
}
