/**
 * Corrects an issued invoice: a credit note with its own gapless number (series CRN) that reverses the invoice
 * line by line, and ledger reversals of the invoice's session transfers, in one transaction. Credit notes are
 * full: an invoice is credited at most once (a partial correction is a credit note plus a new invoice).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { reverseTransfer } from '../../ledger/reverse-transfer.ts';
import { sessionTransferKey } from '../../ledger/session-posting.ts';
import { assert } from '../../shared/assert.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { buildCreditNoteDocument } from './build-invoice-document.ts';
import type { InvoiceDocument } from './invoice-document.ts';
import { SERIES, takeInvoiceNumber } from './invoice-numbers.ts';

export type CreditNoteError =
  | { readonly code: 'InvoiceNotFound'; readonly message: string }
  | { readonly code: 'InvoiceNotCreditable'; readonly message: string }
  | { readonly code: 'InvoiceAlreadyCredited'; readonly message: string; readonly creditNoteId: string };

export type IssuedCreditNote = { readonly creditNoteId: string; readonly invoiceNumber: string };

/** Run inside a transaction: the invoice row stays locked until commit, so two requests cannot both credit it. */
export async function issueCreditNote(
  trx: Kysely<Database>,
  request: { operatorId: string; invoiceId: string; reason: string; now: Date },
): Promise<Result<IssuedCreditNote, CreditNoteError>> {
  const invoice = await trx
    .selectFrom('invoices')
    .select(['id', 'kind', 'document', 'id_token_id', 'customer_id', 'currency', 'operator_id'])
    .where('operator_id', '=', request.operatorId)
    .where('id', '=', request.invoiceId)
    .forUpdate()
    .executeTakeFirst();
  if (!invoice) return err({ code: 'InvoiceNotFound', message: `no invoice ${request.invoiceId}` });
  if (invoice.kind === 'credit_note') {
    return err({ code: 'InvoiceNotCreditable', message: 'a credit note cannot be credited; issue a new invoice' });
  }
  const existing = await trx
    .selectFrom('invoices')
    .select(['id', 'invoice_number'])
    .where('credits_invoice_id', '=', invoice.id)
    .executeTakeFirst();
  if (existing) {
    return err({
      code: 'InvoiceAlreadyCredited',
      message: `invoice ${invoice.id} was credited by ${existing.invoice_number}`,
      creditNoteId: existing.id,
    });
  }
  const { number, invoiceNumber } = await takeInvoiceNumber(trx, request.operatorId, SERIES.credit_note);
  const document = buildCreditNoteDocument(invoice.document as InvoiceDocument, {
    invoiceId: invoice.id,
    invoiceNumber,
    issuedAt: request.now,
    reason: request.reason,
  });
  const row = await trx
    .insertInto('invoices')
    .values({
      operator_id: request.operatorId,
      kind: 'credit_note',
      series: SERIES.credit_note,
      number,
      invoice_number: invoiceNumber,
      credits_invoice_id: invoice.id,
      id_token_id: invoice.id_token_id,
      customer_id: invoice.customer_id,
      currency: invoice.currency,
      total_excl_vat_minor: BigInt(document.totals.exclVatMinor),
      total_vat_minor: BigInt(document.totals.vatMinor),
      total_incl_vat_minor: BigInt(document.totals.inclVatMinor),
      document: JSON.stringify(document),
      issued_at: request.now,
      tax_point_date: document.taxPointDate,
      period_start: null,
      period_end: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const sessions = await trx
    .selectFrom('invoice_sessions')
    .select('session_id')
    .where('invoice_id', '=', invoice.id)
    .execute();
  for (const { session_id } of sessions) {
    const transfer = await trx
      .selectFrom('ledger_transfers')
      .select('id')
      .where('operator_id', '=', request.operatorId)
      .where('idempotency_key', '=', sessionTransferKey(session_id))
      .executeTakeFirst();
    if (!transfer) continue; // a free session posts nothing, so there is nothing to reverse
    const reversed = await reverseTransfer(trx, {
      operatorId: request.operatorId,
      transferId: transfer.id,
      idempotencyKey: `credit_note:${row.id}:session:${session_id}`,
      cause: { type: 'credit_note', id: row.id },
      invoiceId: row.id,
      description: `credit note ${invoiceNumber} for ${(invoice.document as InvoiceDocument).invoiceNumber}`,
      at: request.now,
    });
    assert(reversed.ok, `reversal for credit note refused: ${!reversed.ok && reversed.error.message}`);
  }
  return ok({ creditNoteId: row.id, invoiceNumber });
}
