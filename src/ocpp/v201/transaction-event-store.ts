/** Stored OCPP 2.0.1 TransactionEvents: one row per (station, transaction, seqNo), applied once. */
import { type Kysely, sql } from 'kysely';
import { BatchWriter } from '../../db/batch-writer.ts';
import type { Database } from '../../db/schema.ts';

/** Events of the fast path per statement; the rest waits for the next one (a statement per batch, one commit). */
const APPLIED_EVENT_BATCH_ITEMS = 500;

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

/** An event to store already applied (see storeAppliedTransactionEvents). */
export type AppliedEventRow = {
  readonly stationId: string;
  readonly event: TransactionEventRequest;
  /** The event's timestamp, read by the caller (an unreadable one fails its own call, not the batch). */
  readonly eventAt: Date;
  readonly receivedAt: Date;
};

/** Whether the row was inserted (not a repeat of a stored seqNo), and whether other events of its transaction wait. */
export type AppliedEventResult = { readonly created: boolean; readonly othersPending: boolean };

/**
 * Stores events that their callers apply at once (Updated events of started sessions): inserted already marked
 * applied, in one statement for a whole batch (group-committed by the v2.0.1 handlers, as the message log and the
 * samples are), which also says for each whether other events of its transaction still wait (an Ended event behind
 * a missing seqNo, events stored before the session started): its caller must then apply those. A repeat of a
 * stored seqNo leaves the stored row as it is (`created: false`); within one batch only the first of a key counts.
 *
 * Marked applied when inserted, not after: a crash before the application loses nothing, because a station repeats
 * an unanswered event and its caller applies an identical repeat again (every step is idempotent).
 */
export async function storeAppliedTransactionEvents(
  db: Kysely<Database>,
  rows: readonly AppliedEventRow[],
): Promise<AppliedEventResult[]> {
  if (rows.length === 0) return [];
  const result = await sql<{ created: boolean; others_pending: boolean }>`
    with v as (
      select * from unnest(${rows.map((r) => r.stationId)}::text[],
                           ${rows.map((r) => r.event.transactionInfo.transactionId)}::text[],
                           ${rows.map((r) => r.event.seqNo)}::int4[], ${rows.map((r) => r.event.eventType)}::text[],
                           ${rows.map((r) => r.eventAt.toISOString())}::timestamptz[],
                           ${rows.map((r) => r.event.offline ?? false)}::bool[],
                           ${rows.map((r) => JSON.stringify(r.event))}::text[],
                           ${rows.map((r) => r.receivedAt.toISOString())}::timestamptz[])
        with ordinality as v(station_id, transaction_id, seq_no, event_type, event_at, offline, payload, received_at, n)
    ), first as (
      select distinct on (station_id, transaction_id, seq_no) * from v order by station_id, transaction_id, seq_no, n
    ), inserted as (
      insert into ocpp_transaction_events
        (station_id, transaction_id, seq_no, event_type, event_at, offline, payload, received_at, applied_at)
      select station_id, transaction_id, seq_no, event_type, event_at, offline, payload::jsonb, received_at, received_at
      from first
      on conflict (station_id, transaction_id, seq_no) do nothing
      returning station_id, transaction_id, seq_no
    )
    select (i.seq_no is not null and f.n = v.n) as created,
           exists (select 1 from ocpp_transaction_events p
                    where p.station_id = v.station_id and p.transaction_id = v.transaction_id
                      and p.applied_at is null) as others_pending
    from v
    join first f using (station_id, transaction_id, seq_no)
    left join inserted i using (station_id, transaction_id, seq_no)
    order by v.n`.execute(db);
  if (result.rows.length !== rows.length) {
    throw new Error(`storeAppliedTransactionEvents: ${result.rows.length} answers for ${rows.length} events`);
  }
  return result.rows.map((r) => ({ created: r.created, othersPending: r.others_pending }));
}

/** The group commit of storeAppliedTransactionEvents: one per node, flushed when the OCPP side closes. */
export function createAppliedEventWriter(db: Kysely<Database>): BatchWriter<AppliedEventRow, AppliedEventResult> {
  return new BatchWriter<AppliedEventRow, AppliedEventResult>((rows) => storeAppliedTransactionEvents(db, rows), {
    maxBatchItems: APPLIED_EVENT_BATCH_ITEMS,
    maxQueuedItems: APPLIED_EVENT_BATCH_ITEMS * 50,
  });
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
