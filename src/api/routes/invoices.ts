/**
 * Invoices, statements and credit notes: list and read as JSON, download as PDF (/invoices/:id.pdf) or EN 16931
 * UBL XML (/invoices/:id.xml), issue a credit note or the monthly statements (admin, finance).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatMinor } from '../../billing/invoices/format-invoice-values.ts';
import { openInvoiceDocument } from '../../billing/invoices/invoice-buyer-cipher.ts';
import type { InvoiceDocument } from '../../billing/invoices/invoice-document.ts';
import { issueCreditNote } from '../../billing/invoices/issue-credit-note.ts';
import { issueMonthlyStatements } from '../../billing/invoices/issue-statements.ts';
import { paymentStatus } from '../../billing/invoices/payment-status.ts';
import { renderInvoicePdf } from '../../billing/invoices/render-pdf.ts';
import { renderInvoiceUbl } from '../../billing/invoices/render-ubl.ts';
import type { InvoiceRow } from '../../db/schema.ts';
import { auditRequest } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';
import { pageOf, pageQuerySchema, withinPage } from './pagination.ts';

type ListQuery = {
  limit: number;
  cursor?: string;
  from?: string;
  to?: string;
  kind?: InvoiceRow['kind'];
  sessionId?: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function summaryJson(row: InvoiceRow) {
  return {
    id: row.id,
    kind: row.kind,
    invoiceNumber: row.invoice_number,
    series: row.series,
    number: Number(row.number),
    creditsInvoiceId: row.credits_invoice_id,
    idTokenId: row.id_token_id,
    customerId: row.customer_id,
    currency: row.currency,
    totals: {
      exclVat: formatMinor(row.total_excl_vat_minor, row.currency),
      vat: formatMinor(row.total_vat_minor, row.currency),
      inclVat: formatMinor(row.total_incl_vat_minor, row.currency),
    },
    issuedAt: row.issued_at.toISOString(),
    taxPointDate: row.tax_point_date,
    periodStart: row.period_start?.toISOString() ?? null,
    periodEnd: row.period_end?.toISOString() ?? null,
  };
}

export function registerInvoiceRoutes(api: FastifyInstance, deps: AppDeps): void {
  const load = async (operatorId: string, id: string): Promise<InvoiceRow> => {
    const row = UUID.test(id)
      ? await deps.db
          .selectFrom('invoices')
          .selectAll()
          .where('operator_id', '=', operatorId)
          .where('id', '=', id)
          .executeTakeFirst()
      : undefined;
    if (!row) throw new ApiError('NotFound', `no invoice ${id}`);
    return row;
  };

  api.get<{ Querystring: ListQuery }>(
    '/invoices',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageQuerySchema,
            kind: { type: 'string', enum: ['invoice', 'statement', 'credit_note'] },
            sessionId: { type: 'string', pattern: UUID.source },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      let query = deps.db.selectFrom('invoices').selectAll().where('operator_id', '=', request.principal!.operatorId);
      if (q.kind) query = query.where('kind', '=', q.kind);
      if (q.sessionId) {
        const sessionId = q.sessionId;
        query = query.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('invoice_sessions as i')
              .select('i.invoice_id')
              .whereRef('i.invoice_id', '=', 'invoices.id')
              .where('i.session_id', '=', sessionId),
          ),
        );
      }
      const rows = await withinPage(query, { time: 'issued_at', id: 'id' }, q).execute();
      const { page, nextCursor } = pageOf(rows, q.limit, (row) => ({ at: row.issued_at, id: row.id }));
      return { data: page.map(summaryJson), nextCursor };
    },
  );

  // One route for JSON, PDF and XML: '/invoices/<id>', '/invoices/<id>.pdf', '/invoices/<id>.xml'.
  api.get<{ Params: { id: string } }>('/invoices/:id', async (request, reply: FastifyReply) => {
    const match = /^(.+?)(?:\.(pdf|xml))?$/.exec(request.params.id);
    const [, id = '', format] = match ?? [];
    const row = await load(request.principal!.operatorId, id);
    // The buyer's personal fields are stored sealed; every rendering reads the opened copy.
    const document = await openInvoiceDocument(deps.cipher, row.document as InvoiceDocument);
    if (format === 'pdf') {
      const pdf = await renderInvoicePdf(document, await paymentStatus(deps.db, row));
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', `attachment; filename="${row.invoice_number}.pdf"`)
        .send(pdf);
    }
    if (format === 'xml') {
      return reply
        .header('content-type', 'application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="${row.invoice_number}.xml"`)
        .send(renderInvoiceUbl(document));
    }
    return { ...summaryJson(row), paymentStatus: await paymentStatus(deps.db, row), document };
  });

  api.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/invoices/:id/credit-notes',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'finance']);
      // The credit note, its ledger reversals and its audit entry commit together.
      const result = await deps.db.transaction().execute(async (trx) => {
        const issued = await issueCreditNote(trx, {
          operatorId: principal.operatorId,
          invoiceId: request.params.id,
          reason: request.body.reason,
          now: deps.clock.now(),
        });
        if (issued.ok) {
          await auditRequest(trx, request, deps.clock.now(), {
            action: 'invoice.credit',
            subjectType: 'invoice',
            subjectId: request.params.id,
            after: {
              creditNoteId: issued.value.creditNoteId,
              invoiceNumber: issued.value.invoiceNumber,
              reason: request.body.reason,
            },
          });
        }
        return issued;
      });
      if (!result.ok) {
        const code = result.error.code === 'InvoiceNotFound' ? 'NotFound' : result.error.code;
        throw new ApiError(code, result.error.message);
      }
      const row = await load(principal.operatorId, result.value.creditNoteId);
      return reply.status(201).send({
        ...summaryJson(row),
        document: await openInvoiceDocument(deps.cipher, row.document as InvoiceDocument),
      });
    },
  );

  api.post<{ Body: { month: string } }>(
    '/invoices/statements',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['month'],
          properties: { month: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'finance']);
      const issued = await issueMonthlyStatements(deps.db, {
        operatorId: principal.operatorId,
        month: request.body.month,
        now: deps.clock.now(),
        // One entry per statement, in the statement's transaction.
        audit: (trx, statement) =>
          auditRequest(trx, request, deps.clock.now(), {
            action: 'invoice.issue-statement',
            subjectType: 'invoice',
            subjectId: statement.invoiceId,
            after: {
              invoiceNumber: statement.invoiceNumber,
              month: request.body.month,
              sessions: statement.document.sessions.length,
              totalInclVatMinor: statement.document.totals.inclVatMinor,
              currency: statement.document.currency,
            },
          }),
      });
      return reply.status(201).send({
        data: issued.map((i) => ({
          id: i.invoiceId,
          invoiceNumber: i.invoiceNumber,
          sessions: i.document.sessions.length,
        })),
      });
    },
  );
}
