/**
 * Provider disputes (chargebacks), applied inside the webhook's transaction. One row per provider dispute; its
 * state moves only forward (open → won | lost), so duplicated, late and reordered webhooks change nothing twice
 * (a `closed` that arrives before its `created` is applied, and the late `created` then changes nothing). While a
 * dispute is open, the customer's tokens are refused (authorize-payment.ts). A lost dispute gets a credit note of
 * the invoice and a ledger transfer (provider clearing down, receivable reinstated for the credit note to clear).
 */
import type { Kysely } from 'kysely';
import { issueCreditNote } from '../../billing/invoices/issue-credit-note.ts';
import type { Database } from '../../db/schema.ts';
import { enqueueNotification } from '../../notifications/enqueue-notification.ts';
import { recordDecision } from '../apply-provider-payment.ts';
import type { PaymentContext } from '../payment-context.ts';
import { bookDisputeLoss } from '../payment-ledger.ts';
import type { ProviderDispute } from '../provider.ts';
import { amountJson } from './dunning-notices.ts';

export type DisputeOutcome = 'unknown-payment' | 'unchanged' | 'opened' | 'won' | 'lost';

export async function applyDispute(
  trx: Kysely<Database>,
  ctx: Pick<PaymentContext, 'provider' | 'logger'>,
  reported: ProviderDispute,
  now: Date,
): Promise<DisputeOutcome> {
  const payment = await trx
    .selectFrom('payments')
    .selectAll()
    .where('provider', '=', ctx.provider.name)
    .where('provider_payment_id', '=', reported.providerPaymentId)
    .executeTakeFirst();
  if (!payment) {
    ctx.logger.warn({ dispute: reported.providerDisputeId }, 'dispute about a payment Voltbill does not know');
    return 'unknown-payment';
  }
  if (reported.currency !== payment.currency) {
    await recordDecision(
      trx,
      payment,
      'dispute-rejected',
      `dispute in ${reported.currency}, payment in ${payment.currency}`,
      now,
    );
    return 'unchanged';
  }
  const inserted = await trx
    .insertInto('payment_disputes')
    .values({
      operator_id: payment.operator_id,
      payment_id: payment.id,
      provider: ctx.provider.name,
      provider_dispute_id: reported.providerDisputeId,
      currency: reported.currency,
      amount_minor: reported.amountMinor,
      reason: reported.reason,
      status: 'open',
      credit_note_id: null,
      opened_at: now,
      closed_at: null,
    })
    .onConflict((oc) => oc.columns(['provider', 'provider_dispute_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  const row = await trx
    .selectFrom('payment_disputes')
    .selectAll()
    .where('provider', '=', ctx.provider.name)
    .where('provider_dispute_id', '=', reported.providerDisputeId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const payload = {
    disputeId: row.id,
    providerDisputeId: row.provider_dispute_id,
    paymentId: payment.id,
    invoiceId: payment.invoice_id,
    amount: amountJson(row.amount_minor, row.currency),
    reason: row.reason,
  };
  if (row.status !== 'open') return 'unchanged';
  if (reported.status === 'open') {
    if (inserted) {
      await recordDecision(trx, payment, 'dispute-opened', `${row.provider_dispute_id}: ${row.reason}`, now);
      await enqueueNotification(trx, {
        operatorId: payment.operator_id,
        type: 'dispute.opened',
        dedupeKey: row.id,
        idTokenId: null,
        payload: { ...payload, status: 'open' },
        now,
      });
      return 'opened';
    }
    return 'unchanged';
  }
  let creditNoteId: string | null = null;
  if (reported.status === 'lost') {
    const booked = await bookDisputeLoss(trx, payment, { id: row.id, amountMinor: row.amount_minor }, now);
    if (!booked.ok) throw new Error(`lost dispute ${row.id} could not be booked: ${booked.message}`);
    if (payment.invoice_id) {
      const note = await issueCreditNote(trx, {
        operatorId: payment.operator_id,
        invoiceId: payment.invoice_id,
        reason: `chargeback: dispute ${row.provider_dispute_id} lost (${row.reason})`,
        now,
      });
      creditNoteId = note.ok
        ? note.value.creditNoteId
        : note.error.code === 'InvoiceAlreadyCredited'
          ? note.error.creditNoteId
          : null;
    }
  }
  await trx
    .updateTable('payment_disputes')
    .set({ status: reported.status, closed_at: now, credit_note_id: creditNoteId })
    .where('id', '=', row.id)
    .execute();
  await recordDecision(trx, payment, `dispute-${reported.status}`, row.provider_dispute_id, now);
  await enqueueNotification(trx, {
    operatorId: payment.operator_id,
    type: 'dispute.closed',
    dedupeKey: row.id,
    idTokenId: null,
    payload: { ...payload, status: reported.status, creditNoteId },
    now,
  });
  return reported.status;
}
