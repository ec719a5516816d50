/**
 * Releases (voids) a hold that is no longer its payment's own: the hold a renewal replaced, or a renewal's new hold
 * of the wrong amount (renew-step.ts). The item names the hold; the payment's own hold is never touched here (the
 * payment's capture or void steps own it), and the payment's row is not changed: its money is on its current hold.
 *
 * A hold already gone (voided, or lapsed at the provider, which reports it voided) is done. An unknown outcome is
 * resolved by a status query and retried under the same key like every other step; a release given up, or refused
 * for another reason, is recorded for support (`renewed-hold-not-released`): the hold then lapses by itself at the
 * provider, and no money moves.
 */
import type { PaymentOutboxRow, PaymentRow } from '../../db/schema.ts';
import { recordDecision } from '../apply-provider-payment.ts';
import type { PaymentContext } from '../payment-context.ts';
import { PROVIDER_SIDE_CODES } from '../provider.ts';
import { finishOutboxItem } from './outbox-store.ts';
import { callResolved, retryLater, type StepOutcome } from './process-outbox-item.ts';

export const RELEASE_NOT_DONE = 'renewed-hold-not-released';

/** The outbox key of the release of `providerPaymentId`, one per hold whatever asked for it. */
export function releaseKey(providerPaymentId: string): string {
  return `release-hold:${providerPaymentId}`;
}

export async function releaseStep(
  ctx: PaymentContext,
  item: PaymentOutboxRow,
  payment: PaymentRow,
): Promise<StepOutcome> {
  const hold = item.provider_payment_id;
  if (hold === null || hold === payment.provider_payment_id) {
    // Never the payment's own hold (the table's check makes a release name one; a renewal names the one it left).
    const why = hold === null ? 'the release names no hold' : 'refused: the hold is the payment’s own';
    await finishOutboxItem(ctx.db, item, 'failed', ctx.clock.now(), why);
    return 'failed';
  }
  const resolved = await callResolved(
    ctx,
    () => ctx.provider.void({ idempotencyKey: item.idempotency_key, providerPaymentId: hold }),
    { idempotencyKey: item.idempotency_key, providerPaymentId: hold },
    (p) => p.status === 'voided',
  );
  if (resolved.kind === 'unknown') return retryLater(ctx, item, payment, resolved.error);
  const now = ctx.clock.now();
  if (resolved.kind === 'ok' && resolved.payment.status === 'voided') {
    await finishOutboxItem(ctx.db, item, 'done', now);
    return 'done';
  }
  // Refused (a hold already released or lapsed is refused by some providers: Stripe answers a second cancel with
  // an unexpected state): what the provider holds now decides.
  const status = await ctx.provider.getStatus({ idempotencyKey: item.idempotency_key, providerPaymentId: hold });
  if (status.ok && status.value.status === 'voided') {
    await finishOutboxItem(ctx.db, item, 'done', now, 'already released');
    return 'done';
  }
  // The status unreadable for the provider's own trouble: asked again later, not given up on a guess. The refusal
  // goes with it, so that a release given up in the end says both.
  if (!status.ok && PROVIDER_SIDE_CODES.has(status.error.code)) {
    const refusal = resolved.kind === 'error' ? resolved.error.code : `the hold is ${resolved.payment.status}`;
    return retryLater(ctx, item, payment, {
      code: status.error.code,
      message: `void refused (${refusal}), status unreadable: ${status.error.message}`,
    });
  }
  const code = resolved.kind === 'error' ? resolved.error.code : `the hold is ${resolved.payment.status}`;
  const message = resolved.kind === 'error' ? `${code}: ${resolved.error.message}` : code;
  await ctx.db.transaction().execute(async (trx) => {
    await finishOutboxItem(trx, item, 'failed', now, message);
    await recordDecision(trx, payment, RELEASE_NOT_DONE, `${hold}: ${message}`, now);
  });
  return 'failed';
}
