/**
 * Dunning, in the transaction of the event it follows: a payment given up opens dunning and notifies the driver
 * (with a self-service pay link, added when the notice is dispatched); a blocked card notifies which tokens it
 * stopped; a captured dunning payment closes the dunning, unblocks the card and its tokens, and sends a receipt.
 */
import type { Kysely } from 'kysely';
import type { Database, PaymentRow } from '../../db/schema.ts';
import { enqueueNotification } from '../../notifications/enqueue-notification.ts';
import type { AmountJson } from '../../notifications/notification-types.ts';
import { formatMoney, parseCurrency } from '../../shared/money.ts';
import { recordDecision } from '../apply-provider-payment.ts';

export function amountJson(minor: bigint, currency: string): AmountJson {
  const parsed = parseCurrency(currency);
  return {
    amount: parsed.ok ? formatMoney({ minor, currency: parsed.value }) : minor.toString(),
    minor: minor.toString(),
    currency,
  };
}

async function tokensOf(trx: Kysely<Database>, paymentMethodId: string): Promise<{ ids: string[]; tags: string[] }> {
  const rows = await trx
    .selectFrom('payment_profiles as pp')
    .innerJoin('id_tokens as t', 't.id', 'pp.id_token_id')
    .select(['t.id', 't.uid'])
    .where('pp.payment_method_id', '=', paymentMethodId)
    .orderBy('t.uid')
    .execute();
  return { ids: rows.map((r) => r.id), tags: rows.map((r) => r.uid) };
}

export async function notifyDunning(
  trx: Kysely<Database>,
  payment: PaymentRow,
  owedMinor: bigint,
  failureCode: string,
  now: Date,
): Promise<void> {
  await enqueueNotification(trx, {
    operatorId: payment.operator_id,
    type: 'payment.dunning_notice',
    dedupeKey: payment.id,
    idTokenId: payment.id_token_id,
    payload: {
      paymentId: payment.id,
      invoiceId: payment.invoice_id,
      sessionId: payment.session_id,
      amount: amountJson(owedMinor, payment.currency),
      failureCode,
    },
    now,
  });
}

export async function notifyTokensBlocked(
  trx: Kysely<Database>,
  input: { operatorId: string; paymentMethodId: string; reason: string; now: Date },
): Promise<void> {
  const method = await trx
    .selectFrom('payment_methods')
    .select(['last4', 'failure_count'])
    .where('id', '=', input.paymentMethodId)
    .executeTakeFirstOrThrow();
  const tokens = await tokensOf(trx, input.paymentMethodId);
  await enqueueNotification(trx, {
    operatorId: input.operatorId,
    type: 'tokens.blocked',
    // One notice per block: the failure count tells one block from the next after an unblock.
    dedupeKey: `${input.paymentMethodId}:${method.failure_count}:${input.now.getTime()}`,
    idTokenId: tokens.ids[0] ?? null,
    payload: { paymentMethodId: input.paymentMethodId, last4: method.last4, reason: input.reason, idTags: tokens.tags },
    now: input.now,
  });
}

/**
 * A dunning payment was captured: the failed payment it settles is paid. Closes the dunning, unblocks the failed
 * payment's card (and so its tokens) and notifies. Runs once per capture (applyProviderPayment books a capture once).
 */
export async function resolveDunning(trx: Kysely<Database>, dunningPayment: PaymentRow, now: Date): Promise<void> {
  const failedId = dunningPayment.settles_payment_id;
  if (!failedId) return;
  await trx
    .updateTable('payment_dunning')
    .set({ resolved_at: now, paid_by_payment_id: dunningPayment.id })
    .where('payment_id', '=', failedId)
    .where('resolved_at', 'is', null)
    .execute();
  const failed = await trx.selectFrom('payments').selectAll().where('id', '=', failedId).executeTakeFirstOrThrow();
  await recordDecision(trx, failed, 'dunning-paid', `paid by payment ${dunningPayment.id}`, now);
  await enqueueNotification(trx, {
    operatorId: dunningPayment.operator_id,
    type: 'payment.receipt',
    dedupeKey: dunningPayment.id,
    idTokenId: failed.id_token_id,
    payload: {
      paymentId: dunningPayment.id,
      settlesPaymentId: failedId,
      invoiceId: dunningPayment.invoice_id,
      amount: amountJson(dunningPayment.captured_minor, dunningPayment.currency),
    },
    now,
  });
  if (!failed.payment_method_id) return;
  const unblocked = await trx
    .updateTable('payment_methods')
    .set({ status: 'active', blocked_reason: null, failure_count: 0 })
    .where('id', '=', failed.payment_method_id)
    .where('status', '=', 'blocked')
    .returning('id')
    .executeTakeFirst();
  if (!unblocked) return;
  await recordDecision(
    trx,
    { operator_id: failed.operator_id, id: failed.payment_method_id },
    'card-unblocked',
    `dunning paid by payment ${dunningPayment.id}`,
    now,
    'payment_method',
  );
  const tokens = await tokensOf(trx, failed.payment_method_id);
  await enqueueNotification(trx, {
    operatorId: failed.operator_id,
    type: 'tokens.unblocked',
    dedupeKey: dunningPayment.id,
    idTokenId: tokens.ids[0] ?? failed.id_token_id,
    payload: { paymentMethodId: failed.payment_method_id, idTags: tokens.tags },
    now,
  });
}
