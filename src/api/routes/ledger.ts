/**
 * The ledger, read-only for auditors and finance: account balances (from postings), transfers with their
 * postings, the trial balance, and a reconciliation run on demand (admin, finance).
 */
import type { FastifyInstance } from 'fastify';
import { accountBalances, trialBalance } from '../../ledger/balances.ts';
import { reconcile } from '../../reconcile/reconcile.ts';
import type { AppDeps } from '../build-app.ts';
import { requireRole } from '../require-role.ts';
import { pageOf, pageQuerySchema, withinPage } from './pagination.ts';

type TransferQuery = {
  limit: number;
  cursor?: string;
  from?: string;
  to?: string;
  causeType?: string;
  causeId?: string;
};

export function registerLedgerRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get<{ Querystring: { currency?: string } }>(
    '/ledger/accounts',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
        },
      },
    },
    async (request) => {
      const balances = await accountBalances(deps.db, request.principal!.operatorId, {
        ...(request.query.currency && { currency: request.query.currency }),
      });
      return {
        data: balances.map((b) => ({
          id: b.accountId,
          code: b.code,
          currency: b.currency,
          kind: b.kind,
          postedMinor: b.postedMinor.toString(),
          pendingMinor: b.pendingMinor.toString(),
        })),
      };
    },
  );

  api.get('/ledger/trial-balance', async (request) => {
    const rows = await trialBalance(deps.db, request.principal!.operatorId);
    return {
      data: rows.map((r) => ({
        currency: r.currency,
        postedMinor: r.postedMinor.toString(),
        pendingMinor: r.pendingMinor.toString(),
        balanced: r.postedMinor === 0n && r.pendingMinor === 0n,
      })),
    };
  });

  api.get<{ Querystring: TransferQuery }>(
    '/ledger/transfers',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageQuerySchema,
            causeType: { type: 'string', pattern: '^[a-z_]{1,40}$' },
            causeId: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      let query = deps.db
        .selectFrom('ledger_transfers')
        .selectAll()
        .where('operator_id', '=', request.principal!.operatorId);
      if (q.causeType) query = query.where('cause_type', '=', q.causeType);
      if (q.causeId) query = query.where('cause_id', '=', q.causeId);
      const rows = await withinPage(query, { time: 'created_at', id: 'id' }, q).execute();
      const { page, nextCursor } = pageOf(rows, q.limit, (row) => ({ at: row.created_at, id: row.id }));
      const postings =
        page.length === 0
          ? []
          : await deps.db
              .selectFrom('ledger_postings as p')
              .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
              .select(['p.transfer_id', 'a.code', 'p.amount_minor', 'p.pending'])
              .where(
                'p.transfer_id',
                'in',
                page.map((r) => r.id),
              )
              .orderBy('p.id')
              .execute();
      return {
        data: page.map((t) => ({
          id: t.id,
          kind: t.kind,
          currency: t.currency,
          idempotencyKey: t.idempotency_key,
          cause: { type: t.cause_type, id: t.cause_id },
          invoiceId: t.invoice_id,
          pendingId: t.pending_id,
          reversesId: t.reverses_id,
          description: t.description,
          createdAt: t.created_at.toISOString(),
          postings: postings
            .filter((p) => p.transfer_id === t.id)
            .map((p) => ({ account: p.code, amountMinor: p.amount_minor.toString(), pending: p.pending })),
        })),
        nextCursor,
      };
    },
  );

  api.post('/ledger/reconciliation', async (request) => {
    requireRole(request, ['admin', 'finance']);
    return reconcile(deps.db, deps.clock);
  });
}
