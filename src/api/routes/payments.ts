/**
 * Payment endpoints, registered as their own plugin under /api/v1 because some are not behind an API key:
 * - POST /payments/webhooks/:provider — the provider's signed webhooks (raw body, signature-checked);
 * - GET /pay/:evseToken, POST /pay/:evseToken/sessions — the ad-hoc QR flow's API (the driver has no account);
 * - authenticated: payments list/detail, refunds (finance/admin), saved cards, wallets and top-ups, QR tokens.
 * The SANDBOX provider's hosted-fields stand-in lives at POST /sandbox/v1/payment_methods (sandbox only).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { findIdToken } from '../../auth/id-token-store.ts';
import type { PaymentRow } from '../../db/schema.ts';
import { quoteAdHoc, startAdHoc } from '../../payments/flows/ad-hoc.ts';
import { signQrToken, verifyQrToken } from '../../payments/flows/qr-token.ts';
import { requestRefund } from '../../payments/flows/request-refund.ts';
import { saveCardForToken } from '../../payments/flows/save-card.ts';
import { createWalletForToken, requestTopUp } from '../../payments/flows/wallets.ts';
import { handleWebhook } from '../../payments/handle-webhook.ts';
import type { PaymentsRuntime } from '../../payments/payments-runtime.ts';
import { HOSTED_FIELDS_PATH } from '../../payments/sandbox/hosted-fields-page.ts';
import { type CurrencyCode, formatMoney, parseCurrency, parseMoney } from '../../shared/money.ts';
import { auditRequest } from '../auth/audit-context.ts';
import { createAuthenticateHook } from '../auth/authenticate-request.ts';
import { createPrincipalRateLimiter } from '../auth/principal-rate-limit.ts';
import { DEFAULT_SECURITY } from '../auth/register-security.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';
import { recordDriverLink } from './pay-driver.ts';
import { createWebhookRefusalGate } from './webhook-refusal-gate.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function paymentRoutes(deps: AppDeps, payments: PaymentsRuntime): FastifyPluginAsync {
  return async (app) => {
    await app.register(webhookRoutes(payments, (deps.security ?? DEFAULT_SECURITY).rateLimitPerIp));
    await app.register(adHocRoutes(deps, payments));
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

/** Registers the SANDBOX hosted-fields stand-in at the root (not under /api/v1): sandbox only. */
export function sandboxHostedFieldsRoutes(payments: PaymentsRuntime): FastifyPluginAsync {
  return async (app) => {
    const sandbox = payments.sandbox;
    if (!sandbox) return;
    // This is the provider's endpoint, not Voltbill's: it takes card numbers, so Voltbill's card-data guard
    // (which refuses them everywhere else) is replaced here by a plain JSON parser.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
    app.post<{ Body: { number: string; exp_month: number; exp_year: number; cvc: string } }>(
      '/sandbox/v1/payment_methods',
      {
        schema: {
          body: {
            type: 'object',
            required: ['number', 'exp_month', 'exp_year', 'cvc'],
            additionalProperties: false,
            properties: {
              number: { type: 'string', maxLength: 23 },
              exp_month: { type: 'integer' },
              exp_year: { type: 'integer' },
              cvc: { type: 'string', maxLength: 4 },
            },
          },
        },
        logLevel: 'silent',
      },
      async (request, reply) => {
        const b = request.body;
        const result = sandbox.tokenizeCard({
          number: b.number,
          expMonth: b.exp_month,
          expYear: b.exp_year,
          cvc: b.cvc,
        });
        if (!result.ok)
          return reply
            .status(402)
            .send({ sandbox: true, error: { code: result.error.code, message: result.error.message } });
        return {
          sandbox: true,
          id: result.value.paymentMethodRef,
          brand: result.value.brand,
          last4: result.value.last4,
        };
      },
    );
  };
}

/** `maxRefusalsPerMinute`: refused requests one address may send a minute (webhook-refusal-gate.ts says why). */
function webhookRoutes(payments: PaymentsRuntime, maxRefusalsPerMinute: number): FastifyPluginAsync {
  const gate = createWebhookRefusalGate(maxRefusalsPerMinute);
  return async (app) => {
    // Signatures are over the raw bytes: keep the body as a Buffer, never re-serialized JSON.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_request, body, done) =>
      done(null, body),
    );
    app.post<{ Params: { provider: string } }>(
      '/payments/webhooks/:provider',
      // Not under the API's per-address limit: signed events are not limited, refused ones are (the gate).
      { config: { rateLimit: false } },
      async (request, reply) => {
        // Verified first, always: a signed event is never refused, whoever else sends from its address.
        const refuse = async (error: ApiError): Promise<never> => {
          const retryAfterS = await gate.refused(request.ip, payments.ctx.clock.now());
          if (retryAfterS === 0) throw error;
          reply.header('retry-after', String(retryAfterS));
          throw new ApiError('RateLimited', `too many refused webhooks from this address; retry in ${retryAfterS} s`);
        };
        if (request.params.provider !== payments.provider.name) {
          return refuse(new ApiError('NotFound', `no webhook endpoint for provider ${request.params.provider}`));
        }
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await handleWebhook(payments.ctx, body, request.headers);
        if (!result.ok) return refuse(new ApiError('WebhookInvalid', `${result.code}: ${result.message}`));
        return reply.status(200).send({ received: true, duplicate: result.duplicate });
      },
    );
  };
}

function adHocRoutes(deps: AppDeps, payments: PaymentsRuntime): FastifyPluginAsync {
  return async (app) => {
    const claimsOf = (token: string) => {
      const verified = verifyQrToken(
        token,
        payments.payLinkSecret,
        Math.floor(payments.ctx.clock.now().getTime() / 1000),
      );
      if (!verified.ok) throw new ApiError(verified.error.code, verified.error.message);
      return verified.value;
    };
    app.get<{ Params: { evseToken: string } }>('/pay/:evseToken', async (request) => {
      const quote = await quoteAdHoc(payments.ctx, claimsOf(request.params.evseToken));
      if (!quote.ok)
        throw new ApiError(quote.error.code === 'UnknownEvse' ? 'NotFound' : 'TariffNotFound', quote.error.message);
      const q = quote.value;
      return {
        stationId: q.stationId,
        evseId: q.evseId,
        evseUid: q.evseUid,
        location: q.locationName,
        currency: q.currency,
        hold: amountJson(q.holdMinor, q.currency),
        tariff: q.tariff,
        provider: payments.provider.name,
        sandbox: q.sandbox,
        // Where the pay page embeds the card fields: the sandbox's own page; Stripe's fields come from js.stripe.com.
        hostedFieldsUrl: payments.sandbox ? HOSTED_FIELDS_PATH : null,
        // Shown before the card: a charger that is offline cannot start, so the driver should not pay for it.
        stationOnline: deps.connectedStations().includes(q.stationId),
      };
    });
    app.post<{ Params: { evseToken: string }; Body: { paymentMethodRef: string; receiptEmail?: string } }>(
      '/pay/:evseToken/sessions',
      {
        schema: {
          body: {
            type: 'object',
            required: ['paymentMethodRef'],
            additionalProperties: false,
            properties: {
              paymentMethodRef: { type: 'string', minLength: 1, maxLength: 255 },
              receiptEmail: { type: 'string', maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' },
            },
          },
        },
      },
      async (request, reply) => {
        const claims = claimsOf(request.params.evseToken);
        // No hold for a charger that cannot start: the driver's card is not touched while it is offline.
        if (!deps.connectedStations().includes(claims.stationId)) {
          throw new ApiError('StationNotConnected', 'the charger is offline right now; no money was reserved');
        }
        const started = await startAdHoc(
          { ...payments.ctx, ...(payments.remoteStart && { remoteStart: payments.remoteStart }) },
          claims,
          request.body.paymentMethodRef,
        );
        if (!started.ok) {
          const code =
            started.error.code === 'UnknownEvse'
              ? 'NotFound'
              : started.error.code === 'ProviderUnavailable'
                ? 'PaymentProviderUnavailable'
                : started.error.code;
          throw new ApiError(code, started.error.message);
        }
        const s = started.value;
        // The driver secret opens GET /pay/sessions/:paymentId (live status and receipt) for this payment only.
        const link = await recordDriverLink(deps, {
          paymentId: s.paymentId,
          remoteStart: s.remoteStart,
          receiptEmail: request.body.receiptEmail,
          now: payments.ctx.clock.now(),
        });
        return reply.status(s.status === 'authorized' ? 201 : 202).send({
          ...link,
          paymentId: s.paymentId,
          idTag: s.idTag,
          status: s.status,
          hold: amountJson(s.holdMinor, s.currency),
          remoteStart: s.remoteStart,
          sandbox: payments.provider.isSandbox,
        });
      },
    );
  };
}

function registerStaffRoutes(api: FastifyInstance, deps: AppDeps, payments: PaymentsRuntime): void {
  const { db } = deps;
  const staff = ['admin', 'finance', 'support', 'read-only'] as const;

  api.get<{ Querystring: { sessionId?: string } }>('/payments', async (request) => {
    const principal = requireRole(request, staff);
    let query = db.selectFrom('payments').selectAll().where('operator_id', '=', principal.operatorId);
    const sessionId = request.query.sessionId;
    if (sessionId !== undefined) {
      if (!UUID.test(sessionId)) throw new ApiError('InvalidRequest', 'sessionId must be a UUID');
      query = query.where('session_id', '=', sessionId);
    }
    const rows = await query.orderBy('created_at', 'desc').limit(100).execute();
    return { data: rows.map((row) => paymentJson(row, payments.provider.isSandbox)) };
  });

  api.get<{ Params: { id: string } }>('/payments/:id', async (request) => {
    const principal = requireRole(request, staff);
    const row = await loadPayment(request.params.id, principal.operatorId);
    const refunds = await db.selectFrom('payment_refunds').selectAll().where('payment_id', '=', row.id).execute();
    return {
      ...paymentJson(row, payments.provider.isSandbox),
      refunds: refunds.map((r) => ({
        id: r.id,
        amount: amountJson(r.amount_minor, row.currency),
        status: r.status,
        reason: r.reason,
        requestedBy: r.requested_by,
      })),
    };
  });

  api.post<{ Params: { id: string }; Body: { amount?: string; reason: string; creditNote?: boolean } }>(
    '/payments/:id/refunds',
    {
      schema: {
        body: {
          type: 'object',
          required: ['reason'],
          additionalProperties: false,
          properties: {
            amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 20 },
            reason: { type: 'string', minLength: 1, maxLength: 500 },
            creditNote: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'finance']);
      const payment = await loadPayment(request.params.id, principal.operatorId);
      const currency = parseCurrency(payment.currency);
      if (!currency.ok) throw new ApiError('UnknownCurrency', currency.error.message);
      const amount = request.body.amount === undefined ? undefined : parseMoney(request.body.amount, currency.value);
      if (request.body.amount !== undefined && !amount) {
        throw new ApiError('InvalidRequest', `amount has more decimals than ${payment.currency} allows`, '$.amount');
      }
      const key = request.headers['idempotency-key'];
      const now = deps.clock.now();
      // The refund row, its outbox item and its audit entry commit together; a replay (same Idempotency-Key)
      // changes nothing and is not audited again.
      const result = await db.transaction().execute(async (trx) => {
        const recorded = await requestRefund(trx, {
          operatorId: principal.operatorId,
          paymentId: payment.id,
          amountMinor: amount?.minor,
          reason: request.body.reason,
          requestedBy: `${principal.kind ?? 'key'}:${principal.keyId ?? principal.userId ?? 'unknown'}`,
          requestKey: typeof key === 'string' && /^[\x21-\x7e]{1,100}$/.test(key) ? key : request.id,
          withCreditNote: request.body.creditNote ?? false,
          now,
        });
        if (recorded.ok && !recorded.value.duplicate) {
          // Read under requestRefund's row lock, so that "before" is the payment this refund was checked against.
          const locked = await trx
            .selectFrom('payments')
            .select(['captured_minor', 'refunded_minor'])
            .where('id', '=', payment.id)
            .executeTakeFirstOrThrow();
          await auditRequest(trx, request, now, {
            action: 'payment.refund',
            subjectType: 'payment',
            subjectId: payment.id,
            before: { capturedMinor: locked.captured_minor, refundedMinor: locked.refunded_minor },
            after: {
              refundId: recorded.value.refundId,
              amountMinor: recorded.value.amountMinor,
              currency: payment.currency,
              reason: request.body.reason,
              creditNote: request.body.creditNote ?? false,
              status: 'pending',
            },
          });
        }
        return recorded;
      });
      if (!result.ok) throw new ApiError(result.error.code, result.error.message);
      payments.worker.kick();
      return reply.status(202).send({
        refundId: result.value.refundId,
        amount: amountJson(result.value.amountMinor, payment.currency),
        status: 'pending',
        duplicate: result.value.duplicate,
      });
    },
  );

  api.post<{ Body: { idTag: string; paymentMethodRef: string; holdAmount?: string } }>(
    '/payments/methods',
    {
      schema: {
        body: {
          type: 'object',
          required: ['idTag', 'paymentMethodRef'],
          additionalProperties: false,
          properties: {
            idTag: { type: 'string', minLength: 1, maxLength: 36 },
            paymentMethodRef: { type: 'string', minLength: 1, maxLength: 255 },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'support']);
      const token = await findIdToken(db, principal.operatorId, request.body.idTag);
      if (!token) throw new ApiError('NotFound', `no id token ${request.body.idTag}`);
      const saved = await saveCardForToken(
        { db, provider: payments.provider, cipher: payments.ctx.cipher },
        { operatorId: principal.operatorId, idTokenId: token.id, paymentMethodRef: request.body.paymentMethodRef },
      );
      if (!saved.ok) {
        throw new ApiError(
          saved.error.code === 'ProviderUnavailable' ||
            saved.error.code === 'Timeout' ||
            saved.error.code === 'RateLimited'
            ? 'PaymentProviderUnavailable'
            : 'PaymentDeclined',
          saved.error.message,
        );
      }
      return reply.status(201).send({ ...saved.value, sandbox: payments.provider.isSandbox });
    },
  );

  api.post<{ Body: { idTag: string; currency: string } }>(
    '/wallets',
    {
      schema: {
        body: {
          type: 'object',
          required: ['idTag', 'currency'],
          additionalProperties: false,
          properties: {
            idTag: { type: 'string', minLength: 1, maxLength: 36 },
            currency: { type: 'string', pattern: '^[A-Z]{3}$' },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'support']);
      const currency = parseCurrency(request.body.currency);
      if (!currency.ok) throw new ApiError('UnknownCurrency', currency.error.message);
      const token = await findIdToken(db, principal.operatorId, request.body.idTag);
      if (!token) throw new ApiError('NotFound', `no id token ${request.body.idTag}`);
      const walletId = await createWalletForToken(db, {
        operatorId: principal.operatorId,
        idTokenId: token.id,
        currency: currency.value,
      });
      return reply.status(201).send({ id: walletId, balance: amountJson(0n, currency.value) });
    },
  );

  api.get<{ Params: { id: string } }>('/wallets/:id', async (request) => {
    const principal = requireRole(request, staff);
    if (!UUID.test(request.params.id)) throw new ApiError('NotFound', 'no such wallet');
    const wallet = await db
      .selectFrom('wallets')
      .selectAll()
      .where('id', '=', request.params.id)
      .where('operator_id', '=', principal.operatorId)
      .executeTakeFirst();
    if (!wallet) throw new ApiError('NotFound', 'no such wallet');
    return { id: wallet.id, balance: amountJson(wallet.balance_minor, wallet.currency) };
  });

  api.post<{ Params: { id: string }; Body: { amount: string; paymentMethodId: string } }>(
    '/wallets/:id/top-ups',
    {
      schema: {
        body: {
          type: 'object',
          required: ['amount', 'paymentMethodId'],
          additionalProperties: false,
          properties: {
            amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 20 },
            paymentMethodId: { type: 'string', pattern: UUID.source },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'support']);
      if (!UUID.test(request.params.id)) throw new ApiError('NotFound', 'no such wallet');
      const wallet = await db
        .selectFrom('wallets')
        .select('currency')
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!wallet) throw new ApiError('NotFound', 'no such wallet');
      const amount = parseMoney(request.body.amount, wallet.currency as CurrencyCode);
      if (!amount)
        throw new ApiError('InvalidRequest', `amount has more decimals than ${wallet.currency} allows`, '$.amount');
      const key = request.headers['idempotency-key'];
      const result = await requestTopUp(db, {
        operatorId: principal.operatorId,
        walletId: request.params.id,
        paymentMethodId: request.body.paymentMethodId,
        amountMinor: amount.minor,
        requestKey: typeof key === 'string' && /^[\x21-\x7e]{1,100}$/.test(key) ? key : request.id,
        now: deps.clock.now(),
      });
      if (!result.ok) throw new ApiError(result.error.code, result.error.message);
      payments.worker.kick();
      return reply.status(202).send({ paymentId: result.value.paymentId, status: 'pending' });
    },
  );

  api.post<{ Body: { stationId: string; evseId: number } }>(
    '/payments/qr-tokens',
    {
      schema: {
        body: {
          type: 'object',
          required: ['stationId', 'evseId'],
          additionalProperties: false,
          properties: {
            stationId: { type: 'string', minLength: 1, maxLength: 48 },
            evseId: { type: 'integer', minimum: 1 },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'support']);
      const station = await db
        .selectFrom('stations')
        .select('id')
        .where('id', '=', request.body.stationId)
        .where('operator_id', '=', principal.operatorId)
        .executeTakeFirst();
      if (!station) throw new ApiError('NotFound', `no station ${request.body.stationId}`);
      const expiresAtS = Math.floor(deps.clock.now().getTime() / 1000) + payments.payLinkTtlS;
      const token = signQrToken(
        { stationId: station.id, evseId: request.body.evseId, expiresAtS },
        payments.payLinkSecret,
      );
      return reply
        .status(201)
        .send({ token, path: `/pay/${token}`, expiresAt: new Date(expiresAtS * 1000).toISOString() });
    },
  );

  async function loadPayment(id: string, operatorId: string): Promise<PaymentRow> {
    if (!UUID.test(id)) throw new ApiError('NotFound', 'no such payment');
    const row = await db
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', id)
      .where('operator_id', '=', operatorId)
      .executeTakeFirst();
    if (!row) throw new ApiError('NotFound', 'no such payment');
    return row;
  }
}

function amountJson(minor: bigint, currency: string): { amount: string; currency: string; minor: string } {
  const parsed = parseCurrency(currency);
  return {
    amount: parsed.ok ? formatMoney({ minor, currency: parsed.value }) : minor.toString(),
    currency,
    minor: minor.toString(),
  };
}

export function paymentJson(row: PaymentRow, sandbox: boolean) {
  return {
    id: row.id,
    kind: row.kind,
    provider: row.provider,
    sandbox: sandbox && row.provider !== 'wallet',
    sessionId: row.session_id,
    status: row.status,
    requested: amountJson(row.requested_minor, row.currency),
    authorized: amountJson(row.authorized_minor, row.currency),
    captured: amountJson(row.captured_minor, row.currency),
    refunded: amountJson(row.refunded_minor, row.currency),
    due: row.due_minor === null ? null : amountJson(row.due_minor, row.currency),
    invoiceId: row.invoice_id,
    holdExpiresAt: row.hold_expires_at?.toISOString() ?? null,
    failureCode: row.failure_code,
    createdAt: row.created_at.toISOString(),
  };
}
