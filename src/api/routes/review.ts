/**
 * The review queue of held sessions and the operator's decisions on them (admin only): release bills the session
 * now (CDR, ledger, invoice through the billing hooks), void marks it never billable. Each decision is recorded in
 * review_decisions and in the audit log, in the same transaction as the change.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decideHeldSession, type ReviewDecision } from '../../review/decide-held-session.ts';
import { listReviewQueue } from '../../review/list-review-queue.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, MAX_PAGE_SIZE } from './pagination.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const iso = (date: Date | null) => (date ? date.toISOString() : null);
const wh = (value: bigint | null) => (value === null ? null : Number(value));

const decisionSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['reason'],
    properties: { reason: { type: 'string', minLength: 3, maxLength: 1000 } },
  },
} as const;

export function registerReviewRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/review-queue',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
            cursor: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      const cursor = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
      const items = await listReviewQueue(deps.db, principal.operatorId, {
        limit: request.query.limit + 1,
        ...(cursor && { after: { endedAt: cursor.at, id: cursor.id } }),
      });
      const page = items.slice(0, request.query.limit);
      const last = page.at(-1);
      return {
        data: page.map((item) => ({
          sessionId: item.sessionId,
          stationId: item.stationId,
          evseId: item.evseId,
          transactionId: item.transactionId,
          idTag: item.idTag,
          startedAt: iso(item.startedAt),
          endedAt: iso(item.endedAt),
          meterStartWh: wh(item.meterStartWh),
          meterStopWh: wh(item.meterStopWh),
          energyWh: wh(item.energyWh),
          holds: item.holds,
          findings: item.findings,
        })),
        nextCursor:
          items.length > request.query.limit && last?.endedAt
            ? encodeCursor({ at: last.endedAt, id: last.sessionId })
            : null,
      };
    },
  );

  const decide =
    (decision: ReviewDecision) =>
    async (request: FastifyRequest<{ Params: { id: string }; Body: { reason: string } }>) => {
      const principal = requireRole(request, ['admin']);
      if (!UUID.test(request.params.id)) throw new ApiError('NotFound', `no session ${request.params.id}`);
      const result = await decideHeldSession(
        deps.db,
        {
          operatorId: principal.operatorId,
          sessionId: request.params.id,
          decision,
          reason: request.body.reason.trim(),
          actor: principal.actor,
          ip: request.sealedIp,
          requestId: request.id,
          now: deps.clock.now(),
        },
        deps.billingHooks ?? [],
      );
      if (!result.ok) {
        const code = result.error.code === 'SessionNotFound' ? 'NotFound' : result.error.code;
        throw new ApiError(code, result.error.message);
      }
      const { billing } = result.value;
      return {
        sessionId: result.value.sessionId,
        decision,
        billingStatus: result.value.billingStatus,
        ...(billing.status === 'Billed' && {
          cdrId: billing.cdrId,
          totalExclVat: { minor: billing.exclVat.minor.toString(), currency: billing.exclVat.currency },
          totalInclVat: { minor: billing.inclVat.minor.toString(), currency: billing.inclVat.currency },
        }),
        findings: billing.findings,
      };
    };

  api.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/sessions/:id/release',
    { schema: decisionSchema },
    decide('release'),
  );
  api.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/sessions/:id/void',
    { schema: decisionSchema },
    decide('void'),
  );
}
