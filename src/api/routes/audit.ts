/** The operator's audit log for admins: newest first with keyset pagination, and a verification of its chain. */

import type { FastifyInstance } from 'fastify';
import { verifyAuditChain } from '../../audit/verify-audit-chain.ts';
import { openIp } from '../auth/sealed-ip.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';
import { pageQuerySchema } from './pagination.ts';

type Query = {
  limit: number;
  cursor?: string;
  from?: string;
  to?: string;
  subjectType?: string;
  subjectId?: string;
  action?: string;
};

const entrySchema = {
  type: 'object',
  properties: {
    seq: { type: 'string' },
    at: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    subjectType: { type: 'string' },
    subjectId: { type: 'string' },
    before: {},
    after: {},
    ip: { type: ['string', 'null'] },
    requestId: { type: ['string', 'null'] },
    hash: { type: 'string' },
    prevHash: { type: 'string' },
  },
} as const;

export function registerAuditRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get<{ Querystring: Query }>(
    '/audit',
    {
      schema: {
        summary: 'Audit log entries, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageQuerySchema,
            subjectType: { type: 'string', maxLength: 100 },
            subjectId: { type: 'string', maxLength: 200 },
            action: { type: 'string', maxLength: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { data: { type: 'array', items: entrySchema }, nextCursor: { type: ['string', 'null'] } },
          },
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      const q = request.query;
      let query = deps.db.selectFrom('audit_log').selectAll().where('operator_id', '=', principal.operatorId);
      if (q.subjectType) query = query.where('subject_type', '=', q.subjectType);
      if (q.subjectId) query = query.where('subject_id', '=', q.subjectId);
      if (q.action) query = query.where('action', '=', q.action);
      if (q.from) query = query.where('at', '>=', new Date(q.from));
      if (q.to) query = query.where('at', '<', new Date(q.to));
      if (q.cursor) {
        if (!/^[0-9]{1,19}$/.test(q.cursor))
          throw new ApiError('InvalidRequest', 'cursor is not one this API returned');
        query = query.where('seq', '<', BigInt(q.cursor));
      }
      const rows = await query
        .orderBy('seq', 'desc')
        .limit(q.limit + 1)
        .execute();
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        data: await Promise.all(
          page.map(async (r) => ({
            seq: r.seq.toString(),
            at: new Date(r.at).toISOString(),
            actor: r.actor,
            action: r.action,
            subjectType: r.subject_type,
            subjectId: r.subject_id,
            before: r.before ?? null,
            after: r.after ?? null,
            ip: await openIp(deps.cipher, r.ip),
            requestId: r.request_id,
            hash: r.hash,
            prevHash: r.prev_hash,
          })),
        ),
        nextCursor: rows.length > q.limit && last ? last.seq.toString() : null,
      };
    },
  );

  api.get('/audit/verify', { schema: { summary: "Verify the operator's audit hash chain" } }, async (request) => {
    const principal = requireRole(request, ['admin']);
    return verifyAuditChain(deps.db, { operatorId: principal.operatorId });
  });
}
