/**
 * Applies what a provider says about a payment (a call's answer, a status query, a webhook) to the stored payment,
 * inside the caller's transaction. State only moves forward (PAYMENT_STATUS_RANK) and amounts only grow, so
 * duplicated, late and reordered reports change nothing twice; money moved is booked in the ledger by keys that
 * derive from the payment, so the worker and a webhook reporting the same capture book it once.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, PaymentRow } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';
import { resolveDunning } from './flows/dunning-notices.ts';
import { bookCapture } from './payment-ledger.ts';
import { PAYMENT_STATUS_RANK, type PaymentStatus, type ProviderPayment } from './provider.ts';
import { finishOutboxItemSql, type OutboxItemRef } from './worker/outbox-store.ts';

export type ApplyOutcome =
  | { readonly applied: true; readonly payment: PaymentRow; readonly newlyCapturedMinor: bigint }
  | { readonly applied: false; readonly reason: 'CurrencyMismatch' | 'NotFound' | 'PaymentIdMismatch' };

export type ApplyOptions = {
  /**
   * The payment's lease as the worker's claim set it (outbox-store.ts): ended by this same UPDATE when the payment
   * still holds it, so that the step's only change of the row ends it (outbox-store.ts markLeaseEndedInStep). Absent: untouched.
   */
  readonly endLease?: Date | null;
  /**
   * The worker's outbox item to finish as done in the same statement (finishOutboxItemSql), whatever the merge does,
   * as the step would right after: one round trip less for the capture of every paid session.
   */
  readonly finishItem?: { readonly item: OutboxItemRef; readonly now: Date };
};

export async function applyProviderPayment(
  trx: Kysely<Database>,
  paymentId: string,
  reported: ProviderPayment,
  now: Date,
  options: ApplyOptions = {},
): Promise<ApplyOutcome> {
  // One statement: the row locked (FOR UPDATE in the subquery, so that the values read are the ones updated, also
  // when another transaction changed the row meanwhile), the report merged into it by the rules above, and the row
  // before and after returned. It was a locking read and an UPDATE, two round trips, on every step and webhook.
  const reportedRank = PAYMENT_STATUS_RANK[reported.status];
  const finished = options.finishItem
    ? sql`with finished as (${finishOutboxItemSql(options.finishItem.item, 'done', options.finishItem.now)}) `
    : sql``;
  const result = await sql<PaymentRow & { old_captured_minor: bigint; old_refunded_minor: bigint }>`
    ${finished}update payments p set
      status = ${newStatusSql(reportedRank, reported.status)},
      provider_payment_id = ${reported.providerPaymentId},
      authorized_minor = case when ${reportedRank}::int > ${OLD_STATUS_RANK} and ${reported.status}::text = 'authorized'
                              then ${reported.authorizedMinor}::int8 else old.authorized_minor end,
      captured_minor = greatest(old.captured_minor, ${reported.capturedMinor}::int8),
      refunded_minor = greatest(old.refunded_minor, ${reported.refundedMinor}::int8),
      hold_expires_at = case when ${newStatusSql(reportedRank, reported.status)} = 'authorized'
                             then coalesce(${reported.holdExpiresAt ?? null}::timestamptz, old.hold_expires_at) end,
      updated_at = ${now},
      outbox_lease_until = case when old.outbox_lease_until = ${options.endLease ?? null}::timestamptz then null
                                else old.outbox_lease_until end
    from (select * from payments where id = ${paymentId}::uuid for update) old
    where p.id = old.id and old.currency = ${reported.currency}
      and (old.provider_payment_id is null or old.provider_payment_id = ${reported.providerPaymentId})
    returning p.*, old.captured_minor as old_captured_minor, old.refunded_minor as old_refunded_minor`.execute(trx);
  const merged = result.rows[0];
  if (!merged) return refused(trx, paymentId, reported, now);
  const { old_captured_minor: capturedBefore, old_refunded_minor: refundedBefore, ...updated } = merged;
  const captured = updated.captured_minor;
  const refunded = updated.refunded_minor;
  const newlyCaptured = captured - capturedBefore;
  if (newlyCaptured > 0n) {
    // A second capture of one payment cannot happen at a provider; a growing capture is a broken invariant.
    assert(capturedBefore === 0n, `payment ${updated.id} captured twice (${capturedBefore}, then ${captured})`);
    const booked = await bookCapture(trx, updated, captured, now);
    assert(booked.ok, `capture of payment ${updated.id} could not be booked: ${!booked.ok && booked.message}`);
    if (updated.kind === 'wallet_top_up' && updated.wallet_id) await creditWallet(trx, updated, captured);
    // The driver paid a failed payment through the dunning pay link: close the dunning and unblock the card.
    if (updated.kind === 'dunning') await resolveDunning(trx, updated, now);
  }
  // Refunds are booked per refund when Voltbill's own refund request is confirmed (process-outbox-item.ts); a
  // refund Voltbill did not request (made in the provider's dashboard) is recorded for finance to book by hand.
  if (refunded > refundedBefore) {
    const requested = await trx
      .selectFrom('payment_refunds')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<bigint>('amount_minor'), eb.val(0n)).as('total'))
      .where('payment_id', '=', updated.id)
      .executeTakeFirstOrThrow();
    if (refunded > BigInt(requested.total)) {
      await recordDecision(
        trx,
        updated,
        'unexpected-refund',
        `provider reports ${refunded} refunded; Voltbill requested ${requested.total}`,
        now,
      );
    }
  }
  return { applied: true, payment: updated, newlyCapturedMinor: newlyCaptured };
}

/** The stored status's rank, as a CASE over PAYMENT_STATUS_RANK (code constants, so written into the text). */
const OLD_STATUS_RANK = sql.raw(
  `(case old.status ${Object.entries(PAYMENT_STATUS_RANK)
    .map(([status, rank]) => `when '${status}' then ${rank}`)
    .join(' ')} end)`,
);

/** The status after the merge: the reported one when it ranks above the stored one, else the stored one. */
function newStatusSql(reportedRank: number, reportedStatus: PaymentStatus): RawBuilder<string> {
  return sql<string>`(case when ${reportedRank}::int > ${OLD_STATUS_RANK} then ${reportedStatus}::text else old.status end)`;
}

/** Why the merge changed nothing (no such payment, another currency, another provider payment), recorded. */
async function refused(
  trx: Kysely<Database>,
  paymentId: string,
  reported: ProviderPayment,
  now: Date,
): Promise<ApplyOutcome> {
  const row = await trx.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
  if (!row) return { applied: false, reason: 'NotFound' };
  if (reported.currency !== row.currency) {
    await recordDecision(
      trx,
      row,
      'ProviderReportRejected',
      `provider reported ${reported.currency}, expected ${row.currency}`,
      now,
    );
    return { applied: false, reason: 'CurrencyMismatch' };
  }
  return { applied: false, reason: 'PaymentIdMismatch' };
}

async function creditWallet(trx: Kysely<Database>, payment: PaymentRow, amountMinor: bigint): Promise<void> {
  const inserted = await trx
    .insertInto('wallet_entries')
    .values({
      wallet_id: payment.wallet_id!,
      kind: 'top_up',
      amount_minor: amountMinor,
      idempotency_key: `top-up:${payment.id}`,
      session_id: null,
      payment_id: payment.id,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return;
  await trx
    .updateTable('wallets')
    .set((eb) => ({ balance_minor: eb('balance_minor', '+', amountMinor) }))
    .where('id', '=', payment.wallet_id!)
    .execute();
}

/** Records a payment decision (refusal, block, anomaly) for support staff and auditors. */
export async function recordDecision(
  db: Kysely<Database>,
  payment: Pick<PaymentRow, 'operator_id' | 'id'>,
  decision: string,
  reason: string,
  at: Date,
  subjectType = 'payment',
): Promise<void> {
  await db
    .insertInto('payment_decisions')
    .values({
      operator_id: payment.operator_id,
      subject_type: subjectType,
      subject_id: payment.id,
      decision,
      reason: reason.slice(0, 1000),
      at,
    })
    .execute();
}
