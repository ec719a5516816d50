/**
 * Payment automation endpoints under /api/v1, registered as their own plugin because the pay link is public:
 * - GET/POST /pay-invoice/:token — the dunning self-service pay link (signed, short-lived; no account needed);
 * - staff: authorization decisions, dunning, disputes, notifications and deliveries;
 * - admin: operator webhook endpoints (secret shown once, stored encrypted) and the e-mail outbox a mail relay
 *   reads (GET pending with recipient and body decrypted, POST …/sent when handed over).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { EMAIL_FIELDS } from '../../notifications/notification-worker.ts';
import { createEndpoint, endpointJson } from '../../notifications/webhook-endpoints.ts';
import { verifyDunningLink } from '../../payments/flows/dunning-link.ts';
import { amountJson } from '../../payments/flows/dunning-notices.ts';
import { loadDunning, payDunning } from '../../payments/flows/pay-dunning.ts';
import type { PaymentsRuntime } from '../../payments/payments-runtime.ts';
import { auditRequest } from '../auth/audit-context.ts';
import { createAuthenticateHook } from '../auth/authenticate-request.ts';
import { createPrincipalRateLimiter } from '../auth/principal-rate-limit.ts';
import { DEFAULT_SECURITY } from '../auth/register-security.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole, STAFF_ROLES } from '../require-role.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const limitOf = (raw: string | undefined) => Math.min(Math.max(Number(raw ?? 50) || 50, 1), 200);

export function paymentAutomationRoutes(deps: AppDeps, payments: PaymentsRuntime): FastifyPluginAsync {
  return async (app) => {
    registerPayLinkRoutes(app, payments);
    await app.register(async (api) => {
      api.addHook(
        'preParsing',
        createAuthenticateHook({
          db: deps.db,
          clock: deps.clock,
          tokenSigningKey: deps.cipher.tokenSigningKey,
          limiter: createPrincipalRateLimiter((deps.security ?? DEFAULT_SECURITY).rateLimitPerKey),
        }),
      );
      registerStaffRoutes(api, deps, payments);
    });
  };
}

function registerPayLinkRoutes(app: FastifyInstance, payments: PaymentsRuntime): void {
  const claimsOf = (token: string) => {
    const verified = verifyDunningLink(
      token,
      payments.payLinkSecret,
      Math.floor(payments.ctx.clock.now().getTime() / 1000),
    );
    if (!verified.ok) {
      throw new ApiError(
        verified.error.code === 'PayLinkExpired' ? 'QrTokenExpired' : 'QrTokenInvalid',
        verified.error.message,
      );
    }
    return verified.value;
  };
  app.get<{ Params: { token: string } }>('/pay-invoice/:token', async (request) => {
    const claims = claimsOf(request.params.token);
    const state = await loadDunning(payments.ctx.db, claims.paymentId);
    if (!state) throw new ApiError('NotFound', 'no open payment for this link');
    return {
      status: state.status,
      amountDue: amountJson(state.status === 'paid' ? 0n : state.amountDueMinor, state.currency),
      invoiceId: state.invoiceId,
      failureCode: state.failureCode,
      expiresAt: new Date(claims.expiresAtS * 1000).toISOString(),
      provider: payments.provider.name,
      sandbox: payments.provider.isSandbox,
    };
  });
  app.post<{ Params: { token: string }; Body: { paymentMethodRef?: string; useSavedCard?: boolean } }>(
    '/pay-invoice/:token',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            paymentMethodRef: { type: 'string', minLength: 1, maxLength: 255 },
            useSavedCard: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      const claims = claimsOf(request.params.token);
      const paid = await payDunning(payments.ctx, {
        failedPaymentId: claims.paymentId,
        ...(request.body.paymentMethodRef !== undefined && { paymentMethodRef: request.body.paymentMethodRef }),
        ...(request.body.useSavedCard !== undefined && { useSavedCard: request.body.useSavedCard }),
      });
      if (!paid.ok) {
        const code =
          paid.error.code === 'AlreadyPaid' || paid.error.code === 'PaymentPending'
            ? 'Conflict'
            : paid.error.code === 'PaymentDeclined'
              ? 'PaymentDeclined'
              : paid.error.code;
        throw new ApiError(code, paid.error.message);
      }
      const state = await loadDunning(payments.ctx.db, claims.paymentId);
      return reply.status(paid.value.status === 'captured' ? 200 : 202).send({
        paymentId: paid.value.paymentId,
        status: paid.value.status,
        paid: amountJson(paid.value.amountMinor, state?.currency ?? 'EUR'),
        dunning: state?.status ?? 'open',
        sandbox: payments.provider.isSandbox,
      });
    },
  );
}

function registerStaffRoutes(api: FastifyInstance, deps: AppDeps, payments: PaymentsRuntime): void {
  const { db } = deps;

  api.get<{ Querystring: { idTag?: string; status?: string; limit?: string } }>(
    '/authorization-decisions',
    async (request) => {
      const principal = requireRole(request, STAFF_ROLES);
      let query = db.selectFrom('authorization_decisions').selectAll().where('operator_id', '=', principal.operatorId);
      if (request.query.idTag) query = query.where('id_tag', '=', request.query.idTag);
      if (request.query.status) {
        query = query.where('status', '=', request.query.status as 'Accepted');
      }
      const rows = await query.orderBy('id', 'desc').limit(limitOf(request.query.limit)).execute();
      return {
        data: rows.map((r) => ({
          id: String(r.id),
          idTag: r.id_tag,
          idTokenId: r.id_token_id,
          paymentMethodId: r.payment_method_id,
          stationId: r.station_id,
          evseId: r.evse_id,
          purpose: r.purpose,
          status: r.status,
          reason: r.reason,
          detail: r.detail,
          sessionId: r.session_id,
          at: r.at.toISOString(),
        })),
      };
    },
  );

  // Payment decisions: blocked and unblocked cards, failed steps, wallet stops, disputes, renewals, anomalies.
  api.get<{ Querystring: { subjectId?: string; decision?: string; limit?: string } }>(
    '/payments/decisions',
    async (request) => {
      const principal = requireRole(request, STAFF_ROLES);
      let query = db.selectFrom('payment_decisions').selectAll().where('operator_id', '=', principal.operatorId);
      if (request.query.subjectId) query = query.where('subject_id', '=', request.query.subjectId);
      if (request.query.decision) query = query.where('decision', '=', request.query.decision);
      const rows = await query.orderBy('id', 'desc').limit(limitOf(request.query.limit)).execute();
      return {
        data: rows.map((r) => ({
          id: String(r.id),
          subjectType: r.subject_type,
          subjectId: r.subject_id,
          decision: r.decision,
          reason: r.reason,
          at: r.at.toISOString(),
        })),
      };
    },
  );

  api.get<{ Querystring: { status?: 'open' | 'paid' } }>('/payments/dunning', async (request) => {
    const principal = requireRole(request, STAFF_ROLES);
    let query = db
      .selectFrom('payment_dunning as d')
      .innerJoin('payments as p', 'p.id', 'd.payment_id')
      .select([
        'd.payment_id',
        'd.failure_code',
        'd.notified_at',
        'd.resolved_at',
        'd.amount_minor',
        'd.paid_by_payment_id',
        'p.currency',
        'p.invoice_id',
        'p.id_token_id',
        'p.payment_method_id',
      ])
      .where('d.operator_id', '=', principal.operatorId);
    if (request.query.status === 'open') query = query.where('d.resolved_at', 'is', null);
    if (request.query.status === 'paid') query = query.where('d.resolved_at', 'is not', null);
    const rows = await query.orderBy('d.notified_at', 'desc').limit(200).execute();
    return {
      data: rows.map((r) => ({
        paymentId: r.payment_id,
        status: r.resolved_at ? 'paid' : 'open',
        amountDue: r.amount_minor === null ? null : amountJson(r.amount_minor, r.currency),
        failureCode: r.failure_code,
        invoiceId: r.invoice_id,
        idTokenId: r.id_token_id,
        paymentMethodId: r.payment_method_id,
        notifiedAt: r.notified_at.toISOString(),
        paidAt: r.resolved_at?.toISOString() ?? null,
        paidByPaymentId: r.paid_by_payment_id,
      })),
    };
  });

  api.get('/payments/disputes', async (request) => {
    const principal = requireRole(request, STAFF_ROLES);
    const rows = await db
      .selectFrom('payment_disputes')
      .selectAll()
      .where('operator_id', '=', principal.operatorId)
      .orderBy('opened_at', 'desc')
      .limit(200)
      .execute();
    return {
      data: rows.map((r) => ({
        id: r.id,
        paymentId: r.payment_id,
        provider: r.provider,
        providerDisputeId: r.provider_dispute_id,
        amount: amountJson(r.amount_minor, r.currency),
        reason: r.reason,
        status: r.status,
        creditNoteId: r.credit_note_id,
        openedAt: r.opened_at.toISOString(),
        closedAt: r.closed_at?.toISOString() ?? null,
        sandbox: payments.provider.isSandbox,
      })),
    };
  });

  api.get<{ Querystring: { limit?: string } }>('/notifications', async (request) => {
    const principal = requireRole(request, ['admin', 'support']);
    const rows = await db
      .selectFrom('notifications')
      .selectAll()
      .where('operator_id', '=', principal.operatorId)
      .orderBy('created_at', 'desc')
      .limit(limitOf(request.query.limit))
      .execute();
    const ids = rows.map((r) => r.id);
    const deliveries = ids.length
      ? await db.selectFrom('notification_deliveries').selectAll().where('notification_id', 'in', ids).execute()
      : [];
    return {
      data: rows.map((r) => ({
        id: r.id,
        type: r.type,
        status: r.status,
        payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
        createdAt: r.created_at.toISOString(),
        deliveries: deliveries
          .filter((d) => d.notification_id === r.id)
          .map((d) => ({
            endpointId: d.endpoint_id,
            status: d.status,
            attempts: d.attempts,
            responseStatus: d.response_status,
            lastError: d.last_error,
            deliveredAt: d.delivered_at?.toISOString() ?? null,
          })),
      })),
    };
  });

  api.post<{ Body: { url: string; eventTypes?: string[] } }>(
    '/notification-endpoints',
    {
      schema: {
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', minLength: 8, maxLength: 2000 },
            eventTypes: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 100 } },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin']);
      const created = await db.transaction().execute(async (trx) => {
        const result = await createEndpoint(trx, deps.cipher, {
          operatorId: principal.operatorId,
          url: request.body.url,
          eventTypes: request.body.eventTypes ?? [],
          // Plain http only for endpoints on this machine (development, tests); anything else needs TLS.
          allowHttp: /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(request.body.url),
        });
        // Configuration change: audited in its own transaction, without the secret.
        if (result.ok) {
          await auditRequest(trx, request, deps.clock.now(), {
            action: 'notification-endpoint.create',
            subjectType: 'notification_endpoint',
            subjectId: result.value.id,
            after: { url: result.value.url, eventTypes: result.value.eventTypes },
          });
        }
        return result;
      });
      if (!created.ok) {
        throw new ApiError(
          created.error.code === 'LimitReached' ? 'Conflict' : 'InvalidRequest',
          created.error.message,
        );
      }
      // The secret is shown this once; only its encryption is stored.
      return reply.status(201).send(created.value);
    },
  );

  api.get('/notification-endpoints', async (request) => {
    const principal = requireRole(request, ['admin']);
    const rows = await db
      .selectFrom('notification_endpoints')
      .selectAll()
      .where('operator_id', '=', principal.operatorId)
      .orderBy('created_at')
      .execute();
    return { data: rows.map(endpointJson) };
  });

  api.delete<{ Params: { id: string } }>('/notification-endpoints/:id', async (request, reply) => {
    const principal = requireRole(request, ['admin']);
    if (!UUID.test(request.params.id)) throw new ApiError('NotFound', 'no such endpoint');
    const row = await db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('notification_endpoints')
        .set({ active: false })
        .where('id', '=', request.params.id)
        .where('operator_id', '=', principal.operatorId)
        .returning(['id', 'url'])
        .executeTakeFirst();
      if (updated) {
        await auditRequest(trx, request, deps.clock.now(), {
          action: 'notification-endpoint.deactivate',
          subjectType: 'notification_endpoint',
          subjectId: updated.id,
          before: { url: updated.url, active: true },
          after: { active: false },
        });
      }
      return updated;
    });
    if (!row) throw new ApiError('NotFound', 'no such endpoint');
    return reply.status(204).send();
  });

  api.get<{ Querystring: { status?: 'pending' | 'sent' | 'failed'; limit?: string } }>(
    '/email-outbox',
    async (request) => {
      const principal = requireRole(request, ['admin']);
      const rows = await db
        .selectFrom('email_outbox')
        .selectAll()
        .where('operator_id', '=', principal.operatorId)
        .where('status', '=', request.query.status ?? 'pending')
        .orderBy('id')
        .limit(limitOf(request.query.limit))
        .execute();
      return {
        data: await Promise.all(
          rows.map(async (r) => ({
            id: String(r.id),
            notificationId: r.notification_id,
            to: await deps.cipher.decrypt(EMAIL_FIELDS.recipient, r.recipient_enc),
            subject: r.subject,
            text: await deps.cipher.decrypt(EMAIL_FIELDS.body, r.body_enc),
            status: r.status,
            createdAt: r.created_at.toISOString(),
          })),
        ),
      };
    },
  );

  api.post<{ Params: { id: string }; Body: { status: 'sent' | 'failed' } }>(
    '/email-outbox/:id/status',
    {
      schema: {
        body: {
          type: 'object',
          required: ['status'],
          additionalProperties: false,
          properties: { status: { type: 'string', enum: ['sent', 'failed'] } },
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      if (!/^\d{1,18}$/.test(request.params.id)) throw new ApiError('NotFound', 'no such e-mail');
      const row = await db
        .updateTable('email_outbox')
        .set({ status: request.body.status, sent_at: request.body.status === 'sent' ? deps.clock.now() : null })
        .where('id', '=', BigInt(request.params.id))
        .where('operator_id', '=', principal.operatorId)
        .where('status', '=', 'pending')
        .returning(['id', 'status'])
        .executeTakeFirst();
      if (!row) throw new ApiError('NotFound', 'no pending e-mail with this id');
      return { id: String(row.id), status: row.status };
    },
  );
}
