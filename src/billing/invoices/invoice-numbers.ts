/**
 * Gapless invoice numbers per operator and series. The counter row is incremented with an upsert, which locks it
 * until the issuing transaction ends: the number commits with its invoice or rolls back with it, so there are no
 * gaps and no duplicates, whatever the number of concurrent requests, nodes or restarts. The price is that
 * invoices of one series are issued one transaction at a time, for as long as the counter is held.
 *
 * Two ways to take a number, with the same counter and format:
 * - `takeInvoiceNumber` here, at once (statements, credit notes: their callers print the number);
 * - at commit: an invoice inserted with a null number is numbered by the deferred trigger of migration 0011
 *   (`voltbill_number_invoice_at_commit`), the last thing its transaction does before the commit. Per-session
 *   invoices use it, so that the counter is held for the commit's WAL flush only and not for the rest of the stop
 *   (ledger transfer, payment queue): that is what bounded the stops per second of one operator.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { InvoiceKind } from './invoice-document.ts';

/** Series per document kind: session invoices, periodic statements, credit notes. */
export const SERIES: Readonly<Record<InvoiceKind, string>> = Object.freeze({
  invoice: 'INV',
  statement: 'STM',
  credit_note: 'CRN',
});

/** The document's invoice number until the commit writes the real one (migration 0011). */
export const NUMBERED_AT_COMMIT = '';

/** Digits of the running number in the printed invoice number ('INV-00000042'); the SQL of migration 0011 too. */
const NUMBER_DIGITS = 8;

export function formatInvoiceNumber(series: string, number: bigint): string {
  return `${series}-${number.toString().padStart(NUMBER_DIGITS, '0')}`;
}

/** Takes the next number of a series. Must run inside the transaction that inserts the invoice. */
export async function takeInvoiceNumber(
  trx: Kysely<Database>,
  operatorId: string,
  series: string,
): Promise<{ number: bigint; invoiceNumber: string }> {
  const row = await trx
    .insertInto('invoice_counters')
    .values({ operator_id: operatorId, series, next_number: 2n })
    .onConflict((oc) =>
      oc.columns(['operator_id', 'series']).doUpdateSet({ next_number: sql`invoice_counters.next_number + 1` }),
    )
    .returning('next_number')
    .executeTakeFirstOrThrow();
  const number = BigInt(row.next_number) - 1n;
  return { number, invoiceNumber: formatInvoiceNumber(series, number) };
}
