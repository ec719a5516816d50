/**
 * Webhook intake: verify the signature on the raw body, store the event id (a duplicate changes nothing), and
 * apply the reported payment state forward-only. An event that cannot be verified never changes state.
 */

import { applyProviderPayment } from './apply-provider-payment.ts';
import { applyDispute } from './flows/apply-dispute.ts';
import type { PaymentContext } from './payment-context.ts';
import type { WebhookErrorCode } from './provider.ts';

export type WebhookResult =
  | { readonly ok: true; readonly duplicate: boolean; readonly applied: boolean }
  | { readonly ok: false; readonly code: WebhookErrorCode; readonly message: string };

export async function handleWebhook(
  ctx: PaymentContext,
  rawBody: Buffer,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Promise<WebhookResult> {
  const parsed = ctx.provider.parseWebhook(rawBody, headers);
  if (!parsed.ok) {
    ctx.logger.warn({ provider: ctx.provider.name, code: parsed.error.code }, 'webhook refused');
    return { ok: false, code: parsed.error.code, message: parsed.error.message };
  }
  const event = parsed.value;
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const stored = await trx
      .insertInto('payment_webhook_events')
      .values({
        provider: ctx.provider.name,
        event_id: event.eventId,
        type: event.type,
        provider_payment_id: event.payment?.providerPaymentId ?? event.dispute?.providerPaymentId ?? null,
        received_at: now,
      })
      .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
      .returning('event_id')
      .executeTakeFirst();
    if (!stored) return { ok: true, duplicate: true, applied: false } as const;
    if (event.dispute) {
      const outcome = await applyDispute(trx, ctx, event.dispute, now);
      return { ok: true, duplicate: false, applied: outcome !== 'unchanged' && outcome !== 'unknown-payment' } as const;
    }
    if (!event.payment) return { ok: true, duplicate: false, applied: false } as const;
    let payment = await trx
      .selectFrom('payments')
      .select('id')
      .where('provider', '=', ctx.provider.name)
      .where('provider_payment_id', '=', event.payment.providerPaymentId)
      .executeTakeFirst();
    if (!payment && event.voltbillKey) {
      // The answer to our request was lost, so we do not know the provider's id yet: find it by our own key.
      payment = await trx
        .selectFrom('payment_outbox')
        .select('payment_id as id')
        .where('idempotency_key', '=', event.voltbillKey)
        .executeTakeFirst();
    }
    if (!payment) return { ok: true, duplicate: false, applied: false } as const;
    const applied = await applyProviderPayment(trx, payment.id, event.payment, now);
    return { ok: true, duplicate: false, applied: applied.applied } as const;
  });
}
