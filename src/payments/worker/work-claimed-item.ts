/**
 * One claimed outbox item worked to its end, whatever happens: the step done, failed or put back, or (when the step
 * itself throws: a defect, or the database gone mid-step) retried after a backoff. It never throws, so that the
 * worker can run it beside others without one item's fault ending the rest.
 */
import type { PaymentContext } from '../payment-context.ts';
import { retryDelayMs } from './backoff.ts';
import { type ClaimedOutboxItem, releasePaymentLease, retryOutboxItem } from './outbox-store.ts';
import { processOutboxItem } from './process-outbox-item.ts';

export async function workClaimedItem(ctx: PaymentContext, item: ClaimedOutboxItem): Promise<void> {
  let ended = false;
  try {
    await processOutboxItem(ctx, item);
    ended = true;
  } catch (error) {
    // Retried under the same key after a backoff (nothing moves twice), so that a step that fails the same way every
    // time neither spins nor, being due first, keeps its payment's other steps waiting forever. The payment's lease
    // is kept: it lapses as the claim would have, so no other step of the payment starts while this one's outcome is
    // open.
    ctx.logger.error(
      { err: error, outboxId: String(item.id) },
      'payment outbox item failed unexpectedly; retried after a backoff',
    );
    const now = ctx.clock.now();
    const at = new Date(now.getTime() + retryDelayMs(item.attempts, ctx.settings.retryBaseMs));
    await retryOutboxItem(ctx.db, item, at, now, `unexpected: ${String(error)}`.slice(0, 500)).catch(
      () => undefined, // the database is down: the claim lapses after its lease instead
    );
  }
  if (ended) {
    // The step ended (done, failed, or put back): the payment's other steps may go now.
    await releasePaymentLease(ctx.db, item).catch((error: unknown) =>
      ctx.logger.warn({ err: error, paymentId: item.payment_id }, 'payment lease not released; it lapses'),
    );
  }
}
