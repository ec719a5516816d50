/**
 * The ledger transfers of payments, keyed by the payment so that a capture seen twice (worker and webhook, or a
 * replay) books once:
 * - capture of a session payment: provider clearing (asset) up, customer receivables down;
 * - capture of a wallet top-up: provider clearing up, the wallet's prepaid liability up;
 * - refund: provider clearing down, customer receivables back up (the credit note, when issued, clears them);
 * - wallet debit of a session: prepaid liability down, customer receivables down.
 */
import type { Kysely } from 'kysely';
import type { Database, PaymentRow } from '../db/schema.ts';
import { accounts } from '../ledger/accounts.ts';
import { postTransfer } from '../ledger/post-transfer.ts';
import type { TransferInput } from '../ledger/transfer.ts';

export type LedgerBookingResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

async function post(db: Kysely<Database>, transfer: TransferInput): Promise<LedgerBookingResult> {
  const result = await postTransfer(db, transfer);
  return result.ok ? { ok: true } : { ok: false, message: result.error.message };
}

export function captureTransferKey(paymentId: string): string {
  return `payment:${paymentId}:captured`;
}

/** Books the captured amount of a payment (once per payment: a payment is captured once). */
export function bookCapture(
  db: Kysely<Database>,
  payment: PaymentRow,
  capturedMinor: bigint,
  at: Date,
): Promise<LedgerBookingResult> {
  const provider = payment.provider;
  const credit =
    payment.kind === 'wallet_top_up' && payment.wallet_id
      ? accounts.prepaidWallet(payment.wallet_id)
      : accounts.customerReceivables();
  return post(db, {
    operatorId: payment.operator_id,
    currency: payment.currency,
    idempotencyKey: captureTransferKey(payment.id),
    cause: { type: 'capture', id: payment.id },
    postings: [
      { account: accounts.providerClearing(provider), amountMinor: capturedMinor },
      { account: credit, amountMinor: -capturedMinor },
    ],
    invoiceId: payment.invoice_id,
    description: `${provider === 'sandbox' ? 'SANDBOX ' : ''}card capture (${payment.kind})`,
    at,
  });
}

/**
 * Books one confirmed refund (keyed by the refund). A full refund with a credit note gives the customer's
 * receivable back (the credit note clears it); any other refund is goodwill, booked as refunds expense, so the
 * invoice stays paid in reconciliation.
 */
export function bookRefund(
  db: Kysely<Database>,
  payment: PaymentRow,
  refund: { id: string; amountMinor: bigint; withCreditNote: boolean },
  at: Date,
): Promise<LedgerBookingResult> {
  const deltaMinor = refund.amountMinor;
  const debit =
    payment.kind === 'wallet_top_up' && payment.wallet_id
      ? accounts.prepaidWallet(payment.wallet_id)
      : refund.withCreditNote
        ? accounts.customerReceivables()
        : accounts.refunds();
  return post(db, {
    operatorId: payment.operator_id,
    currency: payment.currency,
    idempotencyKey: `refund:${refund.id}`,
    cause: { type: 'refund', id: payment.id },
    postings: [
      { account: debit, amountMinor: deltaMinor },
      { account: accounts.providerClearing(payment.provider), amountMinor: -deltaMinor },
    ],
    invoiceId: payment.invoice_id,
    description: `${payment.provider === 'sandbox' ? 'SANDBOX ' : ''}card refund`,
    at,
  });
}

/**
 * Books a lost dispute (keyed by the dispute): the card network took the money back from the provider balance, and
 * the customer's receivable is reinstated for the credit note (issued in the same transaction) to clear.
 */
export function bookDisputeLoss(
  db: Kysely<Database>,
  payment: PaymentRow,
  dispute: { id: string; amountMinor: bigint },
  at: Date,
): Promise<LedgerBookingResult> {
  return post(db, {
    operatorId: payment.operator_id,
    currency: payment.currency,
    idempotencyKey: `dispute:${dispute.id}:lost`,
    cause: { type: 'refund', id: payment.id },
    postings: [
      { account: accounts.customerReceivables(), amountMinor: dispute.amountMinor },
      { account: accounts.providerClearing(payment.provider), amountMinor: -dispute.amountMinor },
    ],
    invoiceId: payment.invoice_id,
    description: `${payment.provider === 'sandbox' ? 'SANDBOX ' : ''}dispute lost (chargeback)`,
    at,
  });
}

export function bookWalletDebit(
  db: Kysely<Database>,
  input: {
    operatorId: string;
    currency: string;
    walletId: string;
    sessionId: string;
    invoiceId: string | null;
    amountMinor: bigint;
    at: Date;
  },
): Promise<LedgerBookingResult> {
  return post(db, {
    operatorId: input.operatorId,
    currency: input.currency,
    idempotencyKey: `wallet:${input.walletId}:session:${input.sessionId}`,
    // A payment of the session's invoice, like a card capture (reconciliation counts it against the invoice).
    cause: { type: 'capture', id: input.sessionId },
    invoiceId: input.invoiceId,
    postings: [
      { account: accounts.prepaidWallet(input.walletId), amountMinor: input.amountMinor },
      { account: accounts.customerReceivables(), amountMinor: -input.amountMinor },
    ],
    description: 'prepaid wallet pays a charging session',
    at: input.at,
  });
}
