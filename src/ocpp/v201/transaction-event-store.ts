/** Stored OCPP 2.0.1 TransactionEvents: one row per (station, transaction, seqNo), applied once. */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';

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

/**
 * Stores an event that its caller applies at once (an Updated event of a started session): inserted already marked
 * applied, in one statement that also says whether other events of the transaction still wait (an Ended event
 * behind a missing seqNo, events stored before the session started), which the caller must then apply. A repeat of
 * a stored seqNo leaves the stored row as it is (`created: false`).
 *
 * Marked before it is applied, in one statement instead of two (insert, then mark): a crash in between loses
 * nothing, because the station repeats an unanswered event and its caller applies an identical repeat again (every
 * step is idempotent).
 */
export async function storeAppliedTransactionEvent(
  db: Kysely<Database>,
  stationId: string,
  event: TransactionEventRequest,
  receivedAt: Date,
): Promise<{ created: boolean; othersPending: boolean }> {
  const result = await sql<{ created: boolean; others_pending: boolean }>`
    with inserted as (
      insert into ocpp_transaction_events
        (station_id, transaction_id, seq_no, event_type, event_at, offline, payload, received_at, applied_at)
      values (${stationId}, ${event.transactionInfo.transactionId}, ${event.seqNo}, ${event.eventType},
              ${new Date(event.timestamp)}, ${event.offline ?? false}, ${JSON.stringify(event)}, ${receivedAt},
              ${receivedAt})
      on conflict (station_id, transaction_id, seq_no) do nothing
      returning 1
    )
    select exists (select 1 from inserted) as created,
           exists (select 1 from ocpp_transaction_events
                    where station_id = ${stationId} and transaction_id = ${event.transactionInfo.transactionId}
                      and applied_at is null) as others_pending`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error('storeAppliedTransactionEvent: no row returned');
  return { created: row.created, othersPending: row.others_pending };
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
