/**
 * The API's protective layer, registered before any route: security headers (helmet), a CORS allow-list, a
 * per-IP rate limit, refusal of card data in any request, JSON-only bodies, and the OpenAPI document generated
 * from the route schemas (so routes added later are described without anyone editing a list).
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.ts';
import { findCardData } from './card-data-guard.ts';

export type SecuritySettings = {
  /** Browser origins allowed to call the API (exact match); empty: no cross-origin access. */
  readonly corsOrigins: readonly string[];
  readonly rateLimitPerIp: number;
  readonly rateLimitPerKey: number;
  /**
   * Where rate-limit counters live: 'memory' (this node), 'database' (PostgreSQL, shared by all nodes), 'auto'
   * (database when DATABASE_URL is set, memory on embedded PGlite). Absent: 'auto'.
   */
  readonly rateLimitStore?: 'auto' | 'memory' | 'database';
  /** Set when running on PostgreSQL (config.databaseUrl); 'auto' counts in the database then. */
  readonly databaseUrl?: string | undefined;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
};

export const DEFAULT_SECURITY: SecuritySettings = {
  corsOrigins: [],
  rateLimitPerIp: 600,
  rateLimitPerKey: 1200,
  accessTokenTtlS: 900,
  refreshTokenTtlS: 30 * 86_400,
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No credential needed (sign-in, refresh). */
    public?: boolean;
    /** Drivers may call this route; it must then limit results to the driver's own data. */
    allowDrivers?: boolean;
  }
}

export type RegisteredRoute = { method: string; url: string; hidden: boolean; public: boolean; allowDrivers: boolean };
const routeLists = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route registered after registerSecurity (tests compare it with the OpenAPI document). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return routeLists.get(app) ?? [];
}

/** Whether the rate-limit counters are shared through the database (see SecuritySettings.rateLimitStore). */
export function sharesRateLimits(settings: SecuritySettings): boolean {
  const store = settings.rateLimitStore ?? 'auto';
  return store === 'database' || (store === 'auto' && Boolean(settings.databaseUrl));
}

/** `ipStore`: the per-IP counters' store (rate-limit-store.ts); absent, each node counts in its own memory. */
export async function registerSecurity(
  app: FastifyInstance,
  settings: SecuritySettings,
  ipStore?: FastifyRateLimitStoreCtor,
): Promise<void> {
  const routes: RegisteredRoute[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = Boolean((route.schema as { hide?: boolean } | undefined)?.hide);
    const config = (route.config ?? {}) as { public?: boolean; allowDrivers?: boolean };
    for (const method of methods) {
      routes.push({
        method: String(method),
        url: route.url,
        hidden,
        public: Boolean(config.public),
        allowDrivers: Boolean(config.allowDrivers),
      });
    }
  });
  await app.register(helmet, {
    // The API answers JSON: nothing in it may load or run anything. Pages (web/, /api/docs) set their own policy.
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
  });
  await app.register(cors, {
    origin: settings.corsOrigins.length > 0 ? [...settings.corsOrigins] : false,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
  await app.register(rateLimit, {
    global: true,
    max: settings.rateLimitPerIp,
    timeWindow: 60_000,
    keyGenerator: (request) => request.ip,
    ...(ipStore && {
      store: ipStore,
      // The request itself needs the database: when the counter cannot reach it, let the request fail there.
      skipOnError: true,
    }),
    allowList: (request) => request.url === '/health' || request.url === '/metrics',
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RateLimited',
      message: `too many requests from this address; retry in ${context.after}`,
    }),
  });

  // JSON only: text/plain (Fastify's other default) is refused with 415, so no body escapes the card-data scan.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const finding = findCardData(body as string);
    if (finding) {
      done(cardDataError(finding), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  app.addHook('onRequest', async (request) => {
    const query = request.url.indexOf('?');
    if (query < 0) return;
    let text = request.url.slice(query + 1);
    try {
      text = decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      // A malformed escape is scanned as it is.
    }
    const finding = findCardData(text);
    if (finding) throw cardDataError(finding);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Voltbill API',
        version: '1',
        description:
          'Billing and payments backend for EV charging. Authenticate with `Authorization: Bearer <API key or access token>`. Errors: `{ error: { code, message }, requestId }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url, route }) => {
      // Every route gets a tag from its first path segment after /api/v1, and public routes need no credential.
      const segment = url.replace(/^\/api\/v1\//, '').split('/')[0] || 'root';
      const given = (schema ?? {}) as Record<string, unknown>;
      const isPublic = Boolean((route.config as { public?: boolean } | undefined)?.public);
      const outside = !url.startsWith('/api/v1/');
      return {
        url,
        schema: {
          ...given,
          tags: (given.tags as string[] | undefined) ?? [outside ? 'operations' : segment],
          ...((isPublic || outside) && { security: [] }),
        } as typeof schema,
      };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true, uiConfig: { deepLinking: false } });
}

function cardDataError(finding: string): ApiError {
  return new ApiError(
    'CardDataRefused',
    `the request contains card data (${finding}); Voltbill never accepts card numbers, CVCs or track data — use the payment provider's hosted fields`,
  );
}
