/** Stored OCPP 2.0.1 TransactionEvents: one row per (station, transaction, seqNo), applied once. */
import { type Kysely, sql } from 'kysely';
import { BatchWriter } from '../../db/batch-writer.ts';
import type { Database, SessionRow } from '../../db/schema.ts';

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
): Promise<{ created: boolean; stored: StoredTransactionEvent }> {
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
};

/** What a reading's path needs of its session, read by the statement that stores the event (storeReadingEvents). */
export type ReadingSession = Pick<
  SessionRow,
  'id' | 'status' | 'evse_id' | 'charging_state' | 'started_at' | 'id_tag' | 'authorization_status'
>;

/**
 * Whether the row was inserted (not a repeat of a stored seqNo), whether other events of its transaction were
 * pending (not applied) when it was (a pending repeat of this very seqNo included), and the transaction's session as
 * the same statement saw it (none before it started).
 */
export type ReadingEventResult = {
  readonly created: boolean;
  readonly othersPending: boolean;
  readonly session: ReadingSession | undefined;
};

/** The key of a stored event, to mark it applied (markReadingsApplied). */
export type EventKey = { readonly stationId: string; readonly transactionId: string; readonly seqNo: number };

/**
 * Stores the events of readings (Updated events) as storeTransactionEvent does, pending, but in
 * one statement for a whole batch (group-committed by the v2.0.1 handlers, as the message log and the samples are),
 * which also says for each whether other events of its transaction wait (an Ended event behind a missing seqNo,
 * events stored before the session started, an earlier copy of this seqNo not yet applied): its caller then applies
 * them all through applyTransactionEvents. The same statement reads the transaction's session, so that a reading
 * needs no statement of its own before it is applied. A repeat of a stored seqNo leaves the stored row as it is
 * (`created: false`); within one batch only the first of a key counts.
 */
export async function storeReadingEvents(
  db: Kysely<Database>,
  rows: readonly ReadingEventRow[],
): Promise<ReadingEventResult[]> {
  if (rows.length === 0) return [];
  const result = await sql<
    { created: boolean; others_pending: boolean; started_at_ms: number | null } & {
      [K in Exclude<keyof ReadingSession, 'started_at'>]: ReadingSession[K] | null;
    }
  >`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows.map(toReadingRecord))}::jsonb)
        as v(n int4, station_id text, transaction_id text, seq_no int4, event_type text, event_at timestamptz,
             offline bool, payload jsonb, received_at timestamptz)
    ), first as (
      select distinct on (station_id, transaction_id, seq_no) * from v order by station_id, transaction_id, seq_no, n
    ), inserted as (
      insert into ocpp_transaction_events
        (station_id, transaction_id, seq_no, event_type, event_at, offline, payload, received_at)
      select station_id, transaction_id, seq_no, event_type, event_at, offline, payload, received_at
      from first
      on conflict (station_id, transaction_id, seq_no) do nothing
      returning station_id, transaction_id, seq_no
    )
    select (i.seq_no is not null and f.n = v.n) as created,
           exists (select 1 from ocpp_transaction_events p
                    where p.station_id = v.station_id and p.transaction_id = v.transaction_id
                      and p.applied_at is null) as others_pending,
           s.id, s.status, s.evse_id, s.charging_state, s.id_tag, s.authorization_status,
           (extract(epoch from s.started_at) * 1000)::float8 as started_at_ms
    from v
    join first f using (station_id, transaction_id, seq_no)
    left join inserted i using (station_id, transaction_id, seq_no)
    left join sessions s on s.station_id = v.station_id and s.transaction_id = v.transaction_id
    order by v.n`.execute(db);
  if (result.rows.length !== rows.length) {
    throw new Error(`storeReadingEvents: ${result.rows.length} answers for ${rows.length} events`);
  }
  return result.rows.map((r) => ({
    created: r.created,
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
    payload: row.event,
    received_at: row.receivedAt.toISOString(),
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
  const store = new BatchWriter<ReadingEventRow, ReadingEventResult>((rows) => storeReadingEvents(db, rows), limits);
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
): Promise<StoredTransactionEvent | undefined> {
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
  return rows.map(toStored);
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

function toStored(row: Row): StoredTransactionEvent {
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as TransactionEventRequest;
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
