/**
 * The payment outbox: intents recorded in Voltbill's database before any provider call, claimed by a worker with a
 * lease (so a killed worker's claim lapses and another worker takes the row), and finished after the call.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, PaymentOutboxRow, PaymentOutboxTable, PaymentRow, PaymentsTable } from '../../db/schema.ts';

export type NewOutboxItem = {
  readonly paymentId: string;
  readonly action: PaymentOutboxTable['action'];
  readonly idempotencyKey: string;
  readonly amountMinor?: bigint | null;
  readonly refundId?: string | null;
  /** The hold a `release` item releases (and only such an item names one). */
  readonly providerPaymentId?: string | null;
  readonly notBefore: Date;
};

/** Records an intent; the same key again changes nothing (returns false). */
export async function enqueueOutbox(db: Kysely<Database>, item: NewOutboxItem): Promise<boolean> {
  const inserted = await db
    .insertInto('payment_outbox')
    .values({
      payment_id: item.paymentId,
      action: item.action,
      idempotency_key: item.idempotencyKey,
      amount_minor: item.amountMinor ?? null,
      refund_id: item.refundId ?? null,
      provider_payment_id: item.providerPaymentId ?? null,
      next_attempt_at: item.notBefore,
      locked_until: null,
      last_error: null,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** A claimed outbox item with its payment's row as the claim left it (leased): the step reads it from here. */
export type ClaimedOutboxItem = PaymentOutboxRow & { readonly payment: PaymentRow };

/**
 * Claims the next due item (skipping rows other workers hold) and counts the attempt. The claim also leases the
 * item's payment until the item's own lease ends, and skips payments under a live lease: across all nodes and
 * lanes, one payment's steps are worked one at a time. They must be: each reads the payment's row and then calls the
 * provider (an unknown refund outcome is judged by the payment's refunded total, a settle by whether its hold is
 * still being placed or renewed), so two at once could misjudge each other. A payment row being updated by a
 * transaction in progress (a stop, a webhook) is skipped too, instead of waited for. The row locks are the weaker
 * NO KEY UPDATE (what the two UPDATEs need): inserts that only reference the payment (foreign-key checks) neither
 * wait for a claim nor make it skip the payment. Release with `releasePaymentLease`.
 */
export function claimNextOutboxItem(
  db: Kysely<Database>,
  now: Date,
  leaseMs: number,
): Promise<ClaimedOutboxItem | undefined> {
  return claimWithPaymentLease(db, sql`o.next_attempt_at <= ${now}`, sql`order by o.next_attempt_at, o.id limit 1`, {
    now,
    leaseMs,
  });
}

/**
 * Claims one item by its idempotency key while a request waits for it (an ad-hoc hold, a dunning charge), with the
 * same payment lease as `claimNextOutboxItem`; undefined when it is done, held by a worker, or its payment is leased.
 */
export function claimOutboxItemByKey(
  db: Kysely<Database>,
  idempotencyKey: string,
  now: Date,
  leaseMs: number,
): Promise<ClaimedOutboxItem | undefined> {
  return claimWithPaymentLease(db, sql`o.idempotency_key = ${idempotencyKey}`, sql.raw(''), { now, leaseMs });
}

/**
 * Every column of `payments`, checked against the schema's type by the compiler (a column added to PaymentsTable
 * and not here fails to compile): the claim returns the leased payment row under these names, prefixed, next to the
 * item's own columns, so that the step need not read the row again (one round trip fewer per step).
 */
const PAYMENT_COLUMNS = Object.keys({
  id: 1,
  operator_id: 1,
  kind: 1,
  provider: 1,
  session_id: 1,
  id_token_id: 1,
  payment_method_id: 1,
  wallet_id: 1,
  payment_method_token: 1,
  provider_customer_id: 1,
  provider_payment_id: 1,
  currency: 1,
  requested_minor: 1,
  authorized_minor: 1,
  captured_minor: 1,
  refunded_minor: 1,
  due_minor: 1,
  invoice_id: 1,
  status: 1,
  hold_expires_at: 1,
  failure_code: 1,
  station_id: 1,
  evse_id: 1,
  created_at: 1,
  updated_at: 1,
  settles_payment_id: 1,
  renewed_from_provider_payment_id: 1,
  outbox_lease_until: 1,
} satisfies Record<keyof PaymentsTable, 1>) as (keyof PaymentsTable)[];
const PAYMENT_PREFIX = 'payment__';
const RETURNED_PAYMENT_COLUMNS = sql.raw(PAYMENT_COLUMNS.map((c) => `leased.${c} as ${PAYMENT_PREFIX}${c}`).join(', '));

/** The one claim statement: the first pending, unlocked item that `which` picks (in `order`), with its payment. */
async function claimWithPaymentLease(
  db: Kysely<Database>,
  which: RawBuilder<unknown>,
  order: RawBuilder<unknown>,
  { now, leaseMs }: { now: Date; leaseMs: number },
): Promise<ClaimedOutboxItem | undefined> {
  const until = new Date(now.getTime() + leaseMs);
  const result = await sql<Record<string, unknown>>`
    with item as (
      select o.id, o.payment_id from payment_outbox o join payments p on p.id = o.payment_id
      where ${which} and o.status = 'pending' and (o.locked_until is null or o.locked_until <= ${now})
        and (p.outbox_lease_until is null or p.outbox_lease_until <= ${now})
      ${order}
      for no key update of o, p skip locked
    ), leased as (
      update payments set outbox_lease_until = ${until} from item where payments.id = item.payment_id
      returning payments.*
    )
    update payment_outbox set locked_until = ${until}, attempts = attempts + 1, updated_at = ${now}
    from item, leased
    where payment_outbox.id = item.id
    returning payment_outbox.*, ${RETURNED_PAYMENT_COLUMNS}`.execute(db);
  const row = result.rows[0];
  if (!row) return undefined;
  const item: Record<string, unknown> = {};
  const payment: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (column.startsWith(PAYMENT_PREFIX)) payment[column.slice(PAYMENT_PREFIX.length)] = value;
    else item[column] = value;
  }
  return { ...(item as PaymentOutboxRow), payment: payment as PaymentRow };
}

/**
 * Ends the payment's lease taken with `item`'s claim, once its step is over (done, failed or put back). Only that
 * lease: if it lapsed and another worker leased the payment since, theirs stays.
 *
 * A statement of its own, after the step's transaction has committed, on purpose (measured in the ninth session):
 * ending the lease inside the step's transaction, which has already updated the payment (the provider's report
 * applied), makes PostgreSQL check the payment's foreign keys on that second update of the row (a row last written
 * by the current transaction is checked whatever changed), which takes a KEY SHARE lock on the payment's session.
 * A stop of that session holds the session FOR UPDATE and waits for the payment row to set the amount due: a
 * deadlock (seen under the end-to-end benchmark with holds placed during the sessions).
 */
export async function releasePaymentLease(db: Kysely<Database>, item: PaymentOutboxRow): Promise<void> {
  if (item.locked_until === null || leaseEndedInStep.has(item)) return;
  await db
    .updateTable('payments')
    .set({ outbox_lease_until: null })
    .where('id', '=', item.payment_id)
    .where('outbox_lease_until', '=', item.locked_until)
    .execute();
}

/**
 * Items whose step ended the payment's lease itself, in its committed transaction: the step's only update of the
 * payment row (the provider's report applied, with `endLease`) also ended the lease, so it is one change of the row
 * and no second one (which the deadlock above needs). releasePaymentLease then has nothing to do: one statement
 * less on every captured payment.
 */
const leaseEndedInStep = new WeakSet<PaymentOutboxRow>();

/** Records, once the step's transaction has committed, that it ended `item`'s payment lease. */
export function markLeaseEndedInStep(item: PaymentOutboxRow): void {
  leaseEndedInStep.add(item);
}

/** What finishing or putting back an item needs of it. */
export type OutboxItemRef = Pick<PaymentOutboxRow, 'id'>;

export async function finishOutboxItem(
  db: Kysely<Database>,
  item: OutboxItemRef,
  status: 'done' | 'failed',
  now: Date,
  lastError: string | null = null,
): Promise<void> {
  await finishOutboxItemSql(item, status, now, lastError).execute(db);
}

/** finishOutboxItem's statement, also run as part of another (the capture's report applied: apply-provider-payment). */
export function finishOutboxItemSql(
  item: OutboxItemRef,
  status: 'done' | 'failed',
  now: Date,
  lastError: string | null = null,
): RawBuilder<unknown> {
  return sql`update payment_outbox set status = ${status}, locked_until = null, updated_at = ${now},
    last_error = ${lastError} where id = ${item.id}`;
}

/** Puts an item back for a later attempt (after a 5xx, a timeout, or while it waits for another step). */
export async function retryOutboxItem(
  db: Kysely<Database>,
  item: OutboxItemRef,
  at: Date,
  now: Date,
  lastError: string | null,
  options: { countAttempt: boolean } = { countAttempt: true },
): Promise<void> {
  await db
    .updateTable('payment_outbox')
    .set((eb) => ({
      next_attempt_at: at,
      locked_until: null,
      updated_at: now,
      last_error: lastError,
      ...(!options.countAttempt && { attempts: eb('attempts', '-', 1) }),
    }))
    .where('id', '=', item.id)
    .execute();
}
