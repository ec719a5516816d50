/**
 * The payment outbox: intents recorded in Voltbill's database before any provider call, claimed by a worker with a
 * lease (so a killed worker's claim lapses and another worker takes the row), and finished after the call.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, PaymentOutboxRow, PaymentOutboxTable } from '../../db/schema.ts';

export type NewOutboxItem = {
  readonly paymentId: string;
  readonly action: PaymentOutboxTable['action'];
  readonly idempotencyKey: string;
  readonly amountMinor?: bigint | null;
  readonly refundId?: string | null;
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
      next_attempt_at: item.notBefore,
      locked_until: null,
      last_error: null,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

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
): Promise<PaymentOutboxRow | undefined> {
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
): Promise<PaymentOutboxRow | undefined> {
  return claimWithPaymentLease(db, sql`o.idempotency_key = ${idempotencyKey}`, sql.raw(''), { now, leaseMs });
}

/** The one claim statement: the first pending, unlocked item that `which` picks (in `order`), with its payment. */
async function claimWithPaymentLease(
  db: Kysely<Database>,
  which: RawBuilder<unknown>,
  order: RawBuilder<unknown>,
  { now, leaseMs }: { now: Date; leaseMs: number },
): Promise<PaymentOutboxRow | undefined> {
  const until = new Date(now.getTime() + leaseMs);
  const result = await sql<PaymentOutboxRow>`
    with item as (
      select o.id, o.payment_id from payment_outbox o join payments p on p.id = o.payment_id
      where ${which} and o.status = 'pending' and (o.locked_until is null or o.locked_until <= ${now})
        and (p.outbox_lease_until is null or p.outbox_lease_until <= ${now})
      ${order}
      for no key update of o, p skip locked
    ), leased as (
      update payments set outbox_lease_until = ${until} from item where payments.id = item.payment_id
      returning payments.id
    )
    update payment_outbox set locked_until = ${until}, attempts = attempts + 1, updated_at = ${now}
    from item, leased
    where payment_outbox.id = item.id
    returning payment_outbox.*`.execute(db);
  return result.rows[0];
}

/**
 * Ends the payment's lease taken with `item`'s claim, once its step is over (done, failed or put back). Only that
 * lease: if it lapsed and another worker leased the payment since, theirs stays.
 */
export async function releasePaymentLease(db: Kysely<Database>, item: PaymentOutboxRow): Promise<void> {
  if (item.locked_until === null) return;
  await db
    .updateTable('payments')
    .set({ outbox_lease_until: null })
    .where('id', '=', item.payment_id)
    .where('outbox_lease_until', '=', item.locked_until)
    .execute();
}

export async function finishOutboxItem(
  db: Kysely<Database>,
  id: bigint,
  status: 'done' | 'failed',
  now: Date,
  lastError: string | null = null,
): Promise<void> {
  await db
    .updateTable('payment_outbox')
    .set({ status, locked_until: null, updated_at: now, last_error: lastError })
    .where('id', '=', id)
    .execute();
}

/** Puts an item back for a later attempt (after a 5xx, a timeout, or while it waits for another step). */
export async function retryOutboxItem(
  db: Kysely<Database>,
  id: bigint,
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
    .where('id', '=', id)
    .execute();
}
