/**
 * An invoice's payment status, from the ledger: money captured against it (net of refunds) is the credit on the
 * customer receivables of transfers caused by captures and refunds that name the invoice (see docs).
 */
import { type Kysely, sql } from 'kysely';
import type { Database, InvoiceRow } from '../../db/schema.ts';
import type { PaymentStatus } from './render-pdf.ts';

export async function capturedForInvoice(db: Kysely<Database>, invoiceId: string): Promise<bigint> {
  const row = await sql<{ captured: string | null }>`
    select (-sum(p.amount_minor))::text as captured
    from ledger_transfers t
      join ledger_postings p on p.transfer_id = t.id and not p.pending
      join ledger_accounts a on a.id = p.account_id
    where t.invoice_id = ${invoiceId} and t.cause_type in ('capture', 'refund')
      and (a.code = 'customer_receivables' or a.code like 'customer_receivables:%')`.execute(db);
  return BigInt(row.rows[0]?.captured ?? '0');
}

export async function paymentStatus(db: Kysely<Database>, invoice: InvoiceRow): Promise<PaymentStatus> {
  if (invoice.kind === 'credit_note') return 'credited';
  const credited = await db
    .selectFrom('invoices')
    .select('id')
    .where('credits_invoice_id', '=', invoice.id)
    .executeTakeFirst();
  const captured = await capturedForInvoice(db, invoice.id);
  if (credited) return captured > 0n ? 'refund due' : 'credited';
  if (invoice.total_incl_vat_minor <= 0n || captured >= invoice.total_incl_vat_minor) return 'paid';
  return captured === 0n ? 'open' : 'partially paid';
}
