/**
 * The HTTP API as a Fastify instance that never listens by itself (main.ts does; tests use inject() or listen on
 * port 0). /health, /metrics and /api/docs are open; everything under /api/v1 needs an API key or an access token
 * (except sign-in and refresh) and sees one operator only; drivers see only routes opened to them, and only their data.
 */

import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { BillingHook } from '../billing/billing-hooks.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { PaymentsRuntime } from '../payments/payments-runtime.ts';
import { sandboxHostedFieldsPage } from '../payments/sandbox/hosted-fields-routes.ts';
import type { Clock } from '../shared/clock.ts';
import type { ApiPrincipal } from './api-keys.ts';
import { createAuthenticateHook } from './auth/authenticate-request.ts';
import { closeRouteSchemas, schemaLessBodyProblem, unknownPropertyProblem } from './auth/closed-body-schemas.ts';
import { createPrincipalRateLimiter } from './auth/principal-rate-limit.ts';
import { createDatabaseRateCounter, createMemoryRateCounter } from './auth/rate-counter.ts';
import { rateLimitStoreOn } from './auth/rate-limit-store.ts';
import {
  DEFAULT_SECURITY,
  registerSecurity,
  type SecuritySettings,
  sharesRateLimits,
} from './auth/register-security.ts';
import { sealIp } from './auth/sealed-ip.ts';
import { prepareClose } from './close-app.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { registerApiKeyRoutes } from './routes/api-keys.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerCdrRoutes } from './routes/cdrs.ts';
import { registerCustomerRoutes } from './routes/customers.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerFleetRoutes } from './routes/fleets.ts';
import { registerIdTokenRoutes } from './routes/id-tokens.ts';
import { registerInvoiceRoutes } from './routes/invoices.ts';
import { registerLedgerRoutes } from './routes/ledger.ts';
import { registerMeterRoutes } from './routes/meters.ts';
import { payDriverRoutes } from './routes/pay-driver.ts';
import { payInvoicePageRoutes } from './routes/pay-invoice-page.ts';
import { paymentAutomationRoutes } from './routes/payment-automation.ts';
import { paymentRoutes, sandboxHostedFieldsRoutes } from './routes/payments.ts';
import { registerReviewRoutes } from './routes/review.ts';
import { registerSessionRoutes } from './routes/sessions.ts';
import { registerStationCommandRoutes, type StationCommandGateway } from './routes/station-commands.ts';
import { registerStationRoutes } from './routes/stations.ts';
import { registerTariffRoutes } from './routes/tariffs.ts';
import { registerUserRoutes } from './routes/users.ts';
import { registerWebStatic } from './web-static.ts';

export type AppDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly connectedStations: () => string[];
  /** Remote commands to connected stations (src/ocpp/commands); absent: the command routes answer 409. */
  readonly stationGateway?: StationCommandGateway;
  /** Envelope encryption of personal data and secrets; also keys the access-token signatures. */
  readonly cipher: FieldCipher;
  /** CORS, rate limits and token lifetimes (config); defaults when absent. */
  readonly security: SecuritySettings;
  /** Billing hooks run when an operator releases a held session (the same ones the session end runs). */
  readonly billingHooks?: readonly BillingHook[];
  /** Card payments (webhooks, ad-hoc QR flow, refunds, wallets); absent in apps built without them. */
  readonly payments?: PaymentsRuntime;
};

declare module 'fastify' {
  interface FastifyRequest {
    principal?: ApiPrincipal;
    /** The caller's address sealed for the audit log and sign-in records (sealed-ip.ts); sealed on each read. */
    readonly sealedIp: string | null;
  }
}

/** Largest accepted request body: the API takes small JSON documents only. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Routes without a body schema whose handlers check the body themselves (see closed-body-schemas.ts). */
const HANDLER_VALIDATED_BODIES: ReadonlySet<string> = new Set(['POST /api/v1/stations/:id/commands/:command']);

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is Fastify's logger; the cast only bridges the two packages' type declarations.
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Refuse unknown body properties instead of dropping them (Fastify's default removes them silently); every
    // object body schema is closed by default below, so a misspelt or mass-assigned field is a 400.
    ajv: { customOptions: { removeAdditional: false } },
  });
  prepareClose(app);
  app.addHook('onRoute', closeRouteSchemas);
  // Sealed only when read (an audited change or a sign-in), not for every request.
  app.decorateRequest('sealedIp', {
    getter(this: FastifyRequest) {
      return sealIp(deps.cipher, this.ip);
    },
  });
  app.addHook('preValidation', async (request) => {
    const route = request.routeOptions;
    const problem = schemaLessBodyProblem(
      request.method,
      route.url ?? '',
      Boolean(route.schema?.body),
      request.body,
      HANDLER_VALIDATED_BODIES,
    );
    if (problem) throw new ApiError('InvalidRequest', problem.message, problem.path);
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Rate-limit counters: shared by all nodes through PostgreSQL, or in this node's memory (embedded PGlite).
  const security = deps.security ?? DEFAULT_SECURITY;
  const rateCounter = sharesRateLimits(security)
    ? createDatabaseRateCounter(deps.db, {
        bucketOf: (key) => deps.cipher.blindIndex('rate-limit', key),
        onPruneError: (error) => deps.logger.warn({ err: error }, 'pruning rate-limit windows failed'),
      })
    : createMemoryRateCounter();

  // Security headers, CORS allow-list, per-IP rate limit, card-data refusal, OpenAPI at /api/docs.
  await registerSecurity(
    app,
    security,
    rateCounter.kind === 'database' ? rateLimitStoreOn(rateCounter, () => deps.clock.now()) : undefined,
  );

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      return reply.status(error.status).send({
        error: { code: error.code, message: error.message, ...(error.path && { path: error.path }) },
        requestId: request.id,
      });
    }
    const status = (error as { statusCode?: number }).statusCode;
    const byStatus = { 413: 'PayloadTooLarge', 415: 'UnsupportedMediaType', 429: 'RateLimited' } as const;
    const mapped = status ? byStatus[status as keyof typeof byStatus] : undefined;
    if (mapped) {
      return reply
        .status(API_ERRORS[mapped])
        .send({ error: { code: mapped, message: error.message }, requestId: request.id });
    }
    const unknown = unknownPropertyProblem(
      (error as { validation?: unknown }).validation,
      (error as { validationContext?: unknown }).validationContext,
    );
    if (unknown) {
      return reply.status(API_ERRORS.InvalidRequest).send({
        error: { code: 'InvalidRequest', message: unknown.message, path: unknown.path },
        requestId: request.id,
      });
    }
    if ((error as { validation?: unknown }).validation || (status && status >= 400 && status < 500)) {
      return reply
        .status(API_ERRORS.InvalidRequest)
        .send({ error: { code: 'InvalidRequest', message: error.message }, requestId: request.id });
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .status(API_ERRORS.InternalError)
      .send({ error: { code: 'InternalError', message: 'internal error' }, requestId: request.id });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'NotFound', message: `no route ${request.method} ${request.url}` },
      requestId: request.id,
    }),
  );

  app.get('/health', async (_request, reply) => {
    try {
      await deps.db.selectFrom('operators').select('id').limit(1).execute();
      return { status: 'ok', connectedStations: deps.connectedStations().length };
    } catch {
      return reply.status(503).send({ status: 'unavailable', reason: 'database not reachable' });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  await app.register(
    async (api) => {
      api.addHook(
        'preParsing',
        createAuthenticateHook({
          db: deps.db,
          clock: deps.clock,
          tokenSigningKey: deps.cipher.tokenSigningKey,
          limiter: createPrincipalRateLimiter(security.rateLimitPerKey, rateCounter),
        }),
      );
      registerAuthRoutes(api, deps);
      registerUserRoutes(api, deps);
      registerApiKeyRoutes(api, deps);
      registerAuditRoutes(api, deps);
      registerCustomerRoutes(api, deps);
      registerFleetRoutes(api, deps);
      registerIdTokenRoutes(api, deps);
      registerStationRoutes(api, deps);
      registerStationCommandRoutes(api, deps);
      registerSessionRoutes(api, deps);
      registerCdrRoutes(api, deps);
      registerInvoiceRoutes(api, deps);
      registerLedgerRoutes(api, deps);
      registerTariffRoutes(api, deps);
      registerEventRoutes(api, deps);
      registerMeterRoutes(api, deps);
      registerReviewRoutes(api, deps);
    },
    { prefix: '/api/v1' },
  );

  if (deps.payments) {
    await app.register(paymentRoutes(deps, deps.payments), { prefix: '/api/v1' });
    await app.register(paymentAutomationRoutes(deps, deps.payments), { prefix: '/api/v1' });
    await app.register(payInvoicePageRoutes(deps.payments));
    await app.register(sandboxHostedFieldsRoutes(deps.payments));
    // The driver's pay-page status and account lists (pay-driver.ts); the sandbox's hosted card fields page.
    await app.register(payDriverRoutes(deps, deps.payments), { prefix: '/api/v1' });
    if (deps.payments.sandbox) await app.register(sandboxHostedFieldsPage());
  }

  // The operator dashboard and the driver pages (web/dist), on the same origin as the API they call.
  await registerWebStatic(app, { paymentProvider: deps.payments?.provider.name });

  return app;
}
