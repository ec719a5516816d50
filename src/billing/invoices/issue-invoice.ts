/**
 * Issues an invoice or a statement inside the caller's transaction: takes the next gapless number, builds the
 * document, and stores it with the sessions it bills. A session already on an invoice is refused by a unique
 * constraint, so a session is billed once. A per-session invoice (kind 'invoice', issued in the stop's
 * transaction) is numbered when that transaction commits (invoice-numbers.ts, migration 0011), so that the
 * series' counter is held for the commit only, not for the rest of the stop.
 */
import { type Kysely, sql } from 'kysely';
import { queryTemplate } from '../../db/query-template.ts';
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

type InvoiceInsertParams = {
  operatorId: string;
  kind: IssueRequest['kind'];
  series: string;
  number: bigint | null;
  invoiceNumber: string | null;
  idTokenId: string | null;
  customerId: string | null;
  currency: string;
  totalExclVatMinor: bigint;
  totalVatMinor: bigint;
  totalInclVatMinor: bigint;
  document: string;
  issuedAt: Date;
  taxPointDate: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  sessionIds: readonly string[];
  cdrIds: readonly string[];
  exclVatMinors: readonly string[];
  inclVatMinors: readonly string[];
};

/**
 * The invoice with its sessions, built once (src/db/query-template.ts) for each way of numbering: a per-session
 * invoice is numbered at commit (its number null here), a credit note or period invoice now.
 */
function invoiceInsertTemplate(numberedAtCommit: boolean) {
  const keys: (keyof InvoiceInsertParams)[] = [
    'operatorId',
    'kind',
    'series',
    'idTokenId',
    'customerId',
    'currency',
    'totalExclVatMinor',
    'totalVatMinor',
    'totalInclVatMinor',
    'document',
    'issuedAt',
    'taxPointDate',
    'periodStart',
    'periodEnd',
    'sessionIds',
    'cdrIds',
    'exclVatMinors',
    'inclVatMinors',
  ];
  return queryTemplate(
    numberedAtCommit ? 'issueInvoice numbered at commit' : 'issueInvoice numbered now',
    numberedAtCommit ? keys : [...keys, 'number', 'invoiceNumber'],
    (db, p: InvoiceInsertParams) =>
      db
        .with('invoice', (w) =>
          w
            .insertInto('invoices')
            .values({
              operator_id: p.operatorId,
              kind: p.kind,
              series: p.series,
              // Null: the deferred trigger of migration 0011 numbers the invoice when the transaction commits.
              // Numbered now: takeInvoiceNumber gave both.
              number: numberedAtCommit ? sql<bigint>`null` : (p.number as bigint),
              invoice_number: numberedAtCommit ? sql<string>`null` : (p.invoiceNumber as string),
              credits_invoice_id: null,
              id_token_id: p.idTokenId,
              customer_id: p.customerId,
              currency: p.currency,
              total_excl_vat_minor: p.totalExclVatMinor,
              total_vat_minor: p.totalVatMinor,
              total_incl_vat_minor: p.totalInclVatMinor,
              document: p.document,
              issued_at: p.issuedAt,
              tax_point_date: p.taxPointDate,
              period_start: p.periodStart,
              period_end: p.periodEnd,
            })
            .returning('id'),
        )
        .insertInto('invoice_sessions')
        .columns(['invoice_id', 'session_id', 'cdr_id', 'total_excl_vat_minor', 'total_incl_vat_minor'])
        .expression(
          sql`select invoice.id, v.session_id, v.cdr_id, v.excl, v.incl
          from invoice, unnest(${p.sessionIds}::uuid[], ${p.cdrIds}::uuid[],
                               ${p.exclVatMinors}::int8[], ${p.inclVatMinors}::int8[])
            as v(session_id, cdr_id, excl, incl)`,
        )
        .returning('invoice_id'),
  );
}

const insertInvoiceNumberedAtCommit = invoiceInsertTemplate(true);
const insertNumberedInvoice = invoiceInsertTemplate(false);

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
  const rows = await (atCommit ? insertInvoiceNumberedAtCommit : insertNumberedInvoice).rows(trx, {
    operatorId: request.operatorId,
    kind: request.kind,
    series,
    number,
    invoiceNumber,
    idTokenId: request.idTokenId,
    customerId: request.customerId,
    currency,
    totalExclVatMinor: BigInt(document.totals.exclVatMinor),
    totalVatMinor: BigInt(document.totals.vatMinor),
    totalInclVatMinor: BigInt(document.totals.inclVatMinor),
    document: JSON.stringify(document),
    issuedAt: request.now,
    taxPointDate: document.taxPointDate,
    periodStart: request.period?.start ?? null,
    periodEnd: request.period?.end ?? null,
    sessionIds: billed.map((b) => b.sessionId),
    cdrIds: billed.map((b) => b.cdrId),
    exclVatMinors: billed.map((b) => b.exclVatMinor),
    inclVatMinors: billed.map((b) => b.inclVatMinor),
  });
  const invoiceId = rows[0]?.invoice_id;
  assert(invoiceId !== undefined, 'the invoice and its sessions were written');
  return { invoiceId, invoiceNumber, document };
}
