/**
 * The HTTP API as a Fastify instance that never listens by itself (main.ts does; tests use inject() or listen on
 * port 0). /health and /metrics are open; everything under /api/v1 needs an API key and sees one operator only.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { Clock } from '../shared/clock.ts';
import { type ApiPrincipal, authenticateApiKey } from './api-keys.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { registerCdrRoutes } from './routes/cdrs.ts';
import { registerSessionRoutes } from './routes/sessions.ts';
import { registerStationRoutes } from './routes/stations.ts';
import { registerTariffRoutes } from './routes/tariffs.ts';

export type AppDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly connectedStations: () => string[];
};

declare module 'fastify' {
  interface FastifyRequest {
    principal?: ApiPrincipal;
  }
}

/** Largest accepted request body: the API takes small JSON documents only. */
const MAX_BODY_BYTES = 1024 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is Fastify's logger; the cast only bridges the two packages' type declarations.
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      return reply.status(error.status).send({
        error: { code: error.code, message: error.message, ...(error.path && { path: error.path }) },
        requestId: request.id,
      });
    }
    const status = (error as { statusCode?: number }).statusCode;
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
      api.addHook('onRequest', async (request) => {
        const header = request.headers.authorization;
        const key = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
        if (!key) throw new ApiError('Unauthenticated', 'send an API key: Authorization: Bearer <key>');
        const principal = await authenticateApiKey(deps.db, key, deps.clock.now());
        if (!principal) throw new ApiError('Unauthenticated', 'unknown or revoked API key');
        request.principal = principal;
      });
      registerStationRoutes(api, deps);
      registerSessionRoutes(api, deps);
      registerCdrRoutes(api, deps);
      registerTariffRoutes(api, deps);
    },
    { prefix: '/api/v1' },
  );

  return app;
}
