/**
 * Webhook intake: verify the signature on the raw body, store the event id (a duplicate changes nothing), and
 * apply the reported payment state forward-only. An event that cannot be verified never changes state.
 */

import { sql } from 'kysely';
import type { PaymentRow } from '../db/schema.ts';
import { applyProviderPayment } from './apply-provider-payment.ts';
import { applyDispute } from './flows/apply-dispute.ts';
import type { PaymentContext } from './payment-context.ts';
import type { WebhookErrorCode } from './provider.ts';
import { reportChangesNothing } from './report-changes-nothing.ts';

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
    // One statement stores the event id (a duplicate stores nothing) and reads, unlocked, the payment the event
    // names by the provider's id: most events report what the worker has applied already (report-changes-nothing.ts).
    const reportedPaymentId = event.payment?.providerPaymentId ?? null;
    const { rows } = await sql<{ stored_event_id: string | null } & Partial<PaymentRow>>`
      with stored as (
        insert into payment_webhook_events (provider, event_id, type, provider_payment_id, received_at)
        values (${ctx.provider.name}, ${event.eventId}, ${event.type},
                ${event.payment?.providerPaymentId ?? event.dispute?.providerPaymentId ?? null}, ${now})
        on conflict (provider, event_id) do nothing
        returning event_id
      )
      select (select event_id from stored) as stored_event_id, p.*
        from (select 1) as one
        left join payments p on p.provider = ${ctx.provider.name} and p.provider_payment_id = ${reportedPaymentId}`.execute(
      trx,
    );
    const [row] = rows;
    if (!row?.stored_event_id) return { ok: true, duplicate: true, applied: false } as const;
    if (event.dispute) {
      const outcome = await applyDispute(trx, ctx, event.dispute, now);
      return { ok: true, duplicate: false, applied: outcome !== 'unchanged' && outcome !== 'unknown-payment' } as const;
    }
    if (!event.payment) return { ok: true, duplicate: false, applied: false } as const;
    const { stored_event_id: _, ...found } = row;
    const stored = found.id ? (found as PaymentRow) : undefined;
    if (stored && reportChangesNothing(stored, event.payment)) {
      return { ok: true, duplicate: false, applied: false } as const;
    }
    let paymentId = stored?.id;
    if (!paymentId && event.voltbillKey) {
      // The answer to our request was lost, so we do not know the provider's id yet: find it by our own key.
      const byKey = await trx
        .selectFrom('payment_outbox')
        .select('payment_id')
        .where('idempotency_key', '=', event.voltbillKey)
        .executeTakeFirst();
      paymentId = byKey?.payment_id;
    }
    if (!paymentId) return { ok: true, duplicate: false, applied: false } as const;
    const applied = await applyProviderPayment(trx, paymentId, event.payment, now);
    return { ok: true, duplicate: false, applied: applied.applied } as const;
  });
}
