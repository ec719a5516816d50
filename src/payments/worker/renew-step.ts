/**
 * Renews a hold in place before it expires, so a long session stays covered: a new authorization of the same
 * amount on the same saved card (its own idempotency key, derived from the payment and the hold it replaces), then
 * the payment points at the new hold, then the old hold is voided. In that order there is never a moment without
 * cover: for a short while the driver's card carries two holds, never none. A renewal the card refuses leaves the
 * old hold in place; the release sweep then releases it 12 hours before it expires and the session's end charges
 * the amount anew.
 *
 * The hold left over (the old one, or a new one of the wrong amount) is released by an outbox step of its own
 * (release-step.ts), recorded in the same transaction as the switch: retried through a provider outage, not lost
 * in a crash. Until 2026-11-29 it was a direct call after the commit, never retried: refused, the hold stayed on
 * the driver's card until it lapsed (seven days at Stripe).
 */
import type { PaymentOutboxRow, PaymentRow } from '../../db/schema.ts';
import type { CurrencyCode } from '../../shared/money.ts';
import { recordDecision } from '../apply-provider-payment.ts';
import type { PaymentContext } from '../payment-context.ts';
import { PROVIDER_SIDE_CODES } from '../provider.ts';
import { openProviderCustomerId } from '../provider-customer-id.ts';
import { enqueueOutbox, finishOutboxItem } from './outbox-store.ts';
import { callResolved, retryLater, type StepOutcome } from './process-outbox-item.ts';
import { releaseKey } from './release-step.ts';

export function renewKey(paymentId: string, providerPaymentId: string): string {
  return `renew:${paymentId}:${providerPaymentId}`;
}

export async function renewStep(
  ctx: PaymentContext,
  item: PaymentOutboxRow,
  payment: PaymentRow,
): Promise<StepOutcome> {
  const now = ctx.clock.now();
  const oldId = payment.provider_payment_id;
  // Only a hold still in place is renewed (captured, voided or already renewed: nothing to do).
  if (
    payment.status !== 'authorized' ||
    !oldId ||
    !payment.payment_method_token ||
    item.idempotency_key !== renewKey(payment.id, oldId)
  ) {
    return nothingToRenew(ctx, item, payment);
  }
  const amount = { minor: payment.authorized_minor, currency: payment.currency as CurrencyCode };
  const token = payment.payment_method_token;
  const customerId = await openProviderCustomerId(ctx.cipher, payment.provider_customer_id);
  const resolved = await callResolved(
    ctx,
    () =>
      ctx.provider.authorize({
        idempotencyKey: item.idempotency_key,
        ...(customerId && { customerId }),
        paymentMethodToken: token,
        amount,
        description: `Voltbill hold renewal ${payment.id}`,
      }),
    { idempotencyKey: item.idempotency_key },
    (p) => p.status === 'authorized',
  );
  if (resolved.kind === 'unknown') return retryLater(ctx, item, payment, resolved.error);
  if (resolved.kind === 'error' || resolved.payment.status !== 'authorized') {
    const code = resolved.kind === 'error' ? resolved.error.code : `renewal is ${resolved.payment.status}`;
    await ctx.db.transaction().execute(async (trx) => {
      await finishOutboxItem(trx, item, 'failed', now, code);
      await recordDecision(trx, payment, 'hold-renewal-failed', code, now);
    });
    return 'failed';
  }
  const fresh = resolved.payment;
  if (fresh.currency !== payment.currency || fresh.authorizedMinor !== amount.minor) {
    await ctx.db.transaction().execute(async (trx) => {
      await finishOutboxItem(trx, item, 'failed', now, 'AmountMismatch');
      await recordDecision(
        trx,
        payment,
        'hold-renewal-failed',
        `provider held ${fresh.authorizedMinor} ${fresh.currency}`,
        now,
      );
      // The new hold is not what we asked for: released, the old one kept.
      await enqueueRelease(trx, payment.id, fresh.providerPaymentId, now);
    });
    return 'failed';
  }
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('payments')
      .set({
        provider_payment_id: fresh.providerPaymentId,
        renewed_from_provider_payment_id: oldId,
        hold_expires_at: fresh.holdExpiresAt ?? null,
        updated_at: now,
      })
      .where('id', '=', payment.id)
      .where('provider_payment_id', '=', oldId)
      .where('status', '=', 'authorized')
      .returning('id')
      .executeTakeFirst();
    await finishOutboxItem(trx, item, 'done', now);
    if (row) {
      await recordDecision(
        trx,
        payment,
        'hold-renewed',
        `${oldId} → ${fresh.providerPaymentId}, expires ${fresh.holdExpiresAt?.toISOString()}`,
        now,
      );
    }
    // With the new hold in place (committed with this), the old one is released. Not switched: either another
    // worker ran this same renewal (its lease had lapsed under this one) and switched to the very same new hold
    // (same key), releasing the old one itself: nothing is left over; or the payment moved on (captured, voided):
    // the new hold is the one left over.
    if (row) {
      await enqueueRelease(trx, payment.id, oldId, now);
      return;
    }
    const current = await trx
      .selectFrom('payments')
      .select('provider_payment_id')
      .where('id', '=', payment.id)
      .executeTakeFirst();
    if (current?.provider_payment_id !== fresh.providerPaymentId) {
      await enqueueRelease(trx, payment.id, fresh.providerPaymentId, now);
    }
  });
  // The release is this payment's next step, due now: a lane claims it once this step's lease on the payment ends.
  return 'done';
}

/**
 * The payment no longer needs this renewal (captured, voided, or its hold changed). An earlier attempt whose
 * outcome stayed unknown (a timeout, a lost answer, a worker killed mid-call) may have placed the new hold all the
 * same: left alone, it would stay on the driver's card until it lapsed, unknown to our books (found by the crash
 * test's --renew-holds: one such hold in 615 renewals). So after an earlier attempt the provider is asked for a hold
 * under this renewal's key, and one still held is released by its own step.
 */
async function nothingToRenew(ctx: PaymentContext, item: PaymentOutboxRow, payment: PaymentRow): Promise<StepOutcome> {
  const now = ctx.clock.now();
  // `attempts` counts this claim: more than one, an earlier attempt reached (or may have reached) the provider.
  if (item.attempts > 1) {
    const made = await ctx.provider.getStatus({ idempotencyKey: item.idempotency_key });
    if (!made.ok && made.error.code !== 'NotFound') {
      if (PROVIDER_SIDE_CODES.has(made.error.code)) return retryLater(ctx, item, payment, made.error);
    } else if (
      made.ok &&
      made.value.status === 'authorized' &&
      made.value.providerPaymentId !== payment.provider_payment_id
    ) {
      await ctx.db.transaction().execute(async (trx) => {
        await finishOutboxItem(trx, item, 'done', now, 'nothing to renew; its hold made before released');
        await enqueueRelease(trx, payment.id, made.value.providerPaymentId, now);
      });
      return 'done';
    }
  }
  await finishOutboxItem(ctx.db, item, 'done', now, 'nothing to renew');
  return 'done';
}

async function enqueueRelease(
  trx: Parameters<typeof enqueueOutbox>[0],
  paymentId: string,
  providerPaymentId: string,
  now: Date,
): Promise<void> {
  await enqueueOutbox(trx, {
    paymentId,
    action: 'release',
    idempotencyKey: releaseKey(providerPaymentId),
    providerPaymentId,
    notBefore: now,
  });
}
