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
 * Claims the next due item (skipping rows other workers hold) and counts the attempt, skipping the payments in
 * `busyPaymentIds` (those this process's lanes are working): a node works one payment's items one at a time. The
 * steps of one payment read its row and then call the provider (an unknown refund outcome is judged by the
 * payment's refunded total, a settle by whether its hold is still being placed or renewed), so two of them at once
 * could misjudge each other. (Also skipping items whose payment has another item under a live claim, i.e. across
 * nodes, made every claim take ~200 ms under the e2e benchmark's load, whether written as NOT EXISTS or as a
 * per-row count; left out, see docs/payments.md.)
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
      select id from payment_outbox
      where status = 'pending' and next_attempt_at <= ${now} and (locked_until is null or locked_until <= ${now})
        and payment_id <> all(${busyPaymentIds}::uuid[])
      order by next_attempt_at, id
      limit 1
      for update skip locked
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
