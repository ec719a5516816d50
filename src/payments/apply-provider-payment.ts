/**
 * Applies what a provider says about a payment (a call's answer, a status query, a webhook) to the stored payment,
 * inside the caller's transaction. State only moves forward (PAYMENT_STATUS_RANK) and amounts only grow, so
 * duplicated, late and reordered reports change nothing twice; money moved is booked in the ledger by keys that
 * derive from the payment, so the worker and a webhook reporting the same capture book it once.
 */
import type { Kysely } from 'kysely';
import type { Database, PaymentRow } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';
import { resolveDunning } from './flows/dunning-notices.ts';
import { bookCapture } from './payment-ledger.ts';
import { PAYMENT_STATUS_RANK, type PaymentStatus, type ProviderPayment } from './provider.ts';

export type ApplyOutcome =
  | { readonly applied: true; readonly payment: PaymentRow; readonly newlyCapturedMinor: bigint }
  | { readonly applied: false; readonly reason: 'CurrencyMismatch' | 'NotFound' | 'PaymentIdMismatch' };

export async function applyProviderPayment(
  trx: Kysely<Database>,
  paymentId: string,
  reported: ProviderPayment,
  now: Date,
): Promise<ApplyOutcome> {
  const row = await trx.selectFrom('payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirst();
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
  if (row.provider_payment_id && row.provider_payment_id !== reported.providerPaymentId) {
    return { applied: false, reason: 'PaymentIdMismatch' };
  }
  const forward = PAYMENT_STATUS_RANK[reported.status] > PAYMENT_STATUS_RANK[row.status as PaymentStatus];
  const status = forward ? reported.status : row.status;
  const captured = max(row.captured_minor, reported.capturedMinor);
  const refunded = max(row.refunded_minor, reported.refundedMinor);
  const authorized = forward && reported.status === 'authorized' ? reported.authorizedMinor : row.authorized_minor;
  const holdExpiresAt = status === 'authorized' ? (reported.holdExpiresAt ?? row.hold_expires_at) : null;
  const updated = await trx
    .updateTable('payments')
    .set({
      status,
      provider_payment_id: reported.providerPaymentId,
      authorized_minor: authorized,
      captured_minor: captured,
      refunded_minor: refunded,
      hold_expires_at: holdExpiresAt,
      updated_at: now,
    })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const newlyCaptured = captured - row.captured_minor;
  if (newlyCaptured > 0n) {
    // A second capture of one payment cannot happen at a provider; a growing capture is a broken invariant.
    assert(row.captured_minor === 0n, `payment ${row.id} captured twice (${row.captured_minor}, then ${captured})`);
    const booked = await bookCapture(trx, updated, captured, now);
    assert(booked.ok, `capture of payment ${row.id} could not be booked: ${!booked.ok && booked.message}`);
    if (updated.kind === 'wallet_top_up' && updated.wallet_id) await creditWallet(trx, updated, captured);
    // The driver paid a failed payment through the dunning pay link: close the dunning and unblock the card.
    if (updated.kind === 'dunning') await resolveDunning(trx, updated, now);
  }
  // Refunds are booked per refund when Voltbill's own refund request is confirmed (process-outbox-item.ts); a
  // refund Voltbill did not request (made in the provider's dashboard) is recorded for finance to book by hand.
  if (refunded > row.refunded_minor) {
    const requested = await trx
      .selectFrom('payment_refunds')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<bigint>('amount_minor'), eb.val(0n)).as('total'))
      .where('payment_id', '=', row.id)
      .executeTakeFirstOrThrow();
    if (refunded > BigInt(requested.total)) {
      await recordDecision(
        trx,
        row,
        'unexpected-refund',
        `provider reports ${refunded} refunded; Voltbill requested ${requested.total}`,
        now,
      );
    }
  }
  return { applied: true, payment: updated, newlyCapturedMinor: newlyCaptured };
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

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
