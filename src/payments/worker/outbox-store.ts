/**
 * The payment outbox: intents recorded in Voltbill's database before any provider call, claimed by a worker with a
 * lease (so a killed worker's claim lapses and another worker takes the row), and finished after the call.
 */
import { type Kysely, sql } from 'kysely';
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
 * Claims the next due item (skipping rows other workers hold) and counts the attempt. One payment's items are worked
 * one at a time: an item is not claimed while another item of its payment is under a live claim, nor when its
 * payment is in `busyPaymentIds` (the payments this process's lanes are working). The steps of one payment read
 * its row and then call the provider (an unknown refund outcome is judged by the payment's refunded total, a settle
 * by whether its hold is still being placed or renewed), so two of them at once could misjudge each other.
 */
export async function claimNextOutboxItem(
  db: Kysely<Database>,
  now: Date,
  leaseMs: number,
  busyPaymentIds: readonly string[] = [],
): Promise<PaymentOutboxRow | undefined> {
  const until = new Date(now.getTime() + leaseMs);
  const result = await sql<PaymentOutboxRow>`
    update payment_outbox set locked_until = ${until}, attempts = attempts + 1, updated_at = ${now}
    where id = (
      select o.id from payment_outbox o
      where o.status = 'pending' and o.next_attempt_at <= ${now} and (o.locked_until is null or o.locked_until <= ${now})
        and o.payment_id <> all(${busyPaymentIds}::uuid[])
        and not exists (
          select 1 from payment_outbox q
          where q.payment_id = o.payment_id and q.id <> o.id and q.status = 'pending' and q.locked_until > ${now}
        )
      order by o.next_attempt_at, o.id
      limit 1
      for update of o skip locked
    )
    returning *`.execute(db);
  return result.rows[0];
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
