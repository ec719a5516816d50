/**
 * Issues an invoice or a statement inside the caller's transaction: takes the next gapless number, builds the
 * document, and stores it with the sessions it bills. A session already on an invoice is refused by a unique
 * constraint, so a session is billed once. A per-session invoice (kind 'invoice', issued in the stop's
 * transaction) is numbered when that transaction commits (invoice-numbers.ts, migration 0011), so that the
 * series' counter is held for the commit only, not for the rest of the stop.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { assert } from '../../shared/assert.ts';
import { buildInvoiceDocument } from './build-invoice-document.ts';
import type { InvoiceDocument, InvoiceParty, InvoiceSeller } from './invoice-document.ts';
import { NUMBERED_AT_COMMIT, SERIES, takeInvoiceNumber } from './invoice-numbers.ts';
import { derivedSeller, type LoadedSession, loadSeller } from './load-invoice-inputs.ts';

export type IssueRequest = {
  readonly operatorId: string;
  readonly kind: 'invoice' | 'statement';
  readonly sessions: readonly LoadedSession[];
  readonly buyer: InvoiceParty;
  readonly idTokenId: string | null;
  readonly idTag: string | null;
  readonly customerId: string | null;
  readonly period: { start: Date; end: Date } | null;
  readonly now: Date;
  /**
   * The operator's configured seller when the caller has read it already in this transaction (the stop:
   * billing-shared.ts), null when it read that none is configured; absent: read here.
   */
  readonly configuredSeller?: InvoiceSeller | null;
};

export type IssuedInvoice = {
  readonly invoiceId: string;
  /** Null for a per-session invoice: its number is given at commit (read it from the invoice after commit). */
  readonly invoiceNumber: string | null;
  readonly document: InvoiceDocument;
};

export async function issueInvoice(trx: Kysely<Database>, request: IssueRequest): Promise<IssuedInvoice> {
  assert(request.sessions.length > 0, 'nothing to invoice');
  const currency = request.sessions[0]!.currency;
  assert(
    request.sessions.every((s) => s.currency === currency && s.operatorId === request.operatorId),
    'one invoice bills sessions of one operator in one currency',
  );
  const seller =
    request.configuredSeller === undefined
      ? await loadSeller(trx, request.operatorId)
      : (request.configuredSeller ?? (await derivedSeller(trx, request.operatorId)));
  const series = SERIES[request.kind];
  const atCommit = request.kind === 'invoice';
  const { number, invoiceNumber } = atCommit
    ? { number: null, invoiceNumber: null }
    : await takeInvoiceNumber(trx, request.operatorId, series);
  const document = buildInvoiceDocument({
    kind: request.kind,
    invoiceNumber: invoiceNumber ?? NUMBERED_AT_COMMIT,
    issuedAt: request.now,
    currency,
    seller,
    buyer: request.buyer,
    idTag: request.idTag,
    period: request.period,
    sessions: request.sessions,
  });
  const billed = request.sessions.map((session) => {
    const lines = document.lines.filter((l) => l.sessionId === session.sessionId);
    return {
      sessionId: session.sessionId,
      cdrId: session.cdrId,
      exclVatMinor: lines.reduce((sum, l) => sum + BigInt(l.exclVatMinor), 0n).toString(),
      inclVatMinor: lines.reduce((sum, l) => sum + BigInt(l.inclVatMinor), 0n).toString(),
    };
  });
  // The invoice and its sessions in one statement (foreign keys are checked at its end, with both in place).
  const rows = await trx
    .with('invoice', (db) =>
      db
        .insertInto('invoices')
        .values({
          operator_id: request.operatorId,
          kind: request.kind,
          series,
          // Null: the deferred trigger of migration 0011 numbers the invoice when the transaction commits.
          number: number ?? sql<bigint>`null`,
          invoice_number: invoiceNumber ?? sql<string>`null`,
          credits_invoice_id: null,
          id_token_id: request.idTokenId,
          customer_id: request.customerId,
          currency,
          total_excl_vat_minor: BigInt(document.totals.exclVatMinor),
          total_vat_minor: BigInt(document.totals.vatMinor),
          total_incl_vat_minor: BigInt(document.totals.inclVatMinor),
          document: JSON.stringify(document),
          issued_at: request.now,
          tax_point_date: document.taxPointDate,
          period_start: request.period?.start ?? null,
          period_end: request.period?.end ?? null,
        })
        .returning('id'),
    )
    .insertInto('invoice_sessions')
    .columns(['invoice_id', 'session_id', 'cdr_id', 'total_excl_vat_minor', 'total_incl_vat_minor'])
    .expression(
      sql`select invoice.id, v.session_id, v.cdr_id, v.excl, v.incl
          from invoice, unnest(${billed.map((b) => b.sessionId)}::uuid[], ${billed.map((b) => b.cdrId)}::uuid[],
                               ${billed.map((b) => b.exclVatMinor)}::int8[], ${billed.map((b) => b.inclVatMinor)}::int8[])
            as v(session_id, cdr_id, excl, incl)`,
    )
    .returning('invoice_id')
    .execute();
  const invoiceId = rows[0]?.invoice_id;
  assert(invoiceId !== undefined, 'the invoice and its sessions were written');
  return { invoiceId, invoiceNumber, document };
}
