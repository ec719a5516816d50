/**
 * Sign-in for people: email + password → a short-lived access token and a single-use refresh token; refresh
 * rotates; sign-out revokes the sign-in session at once. /auth/me tells a caller who the API thinks they are.
 */
import type { FastifyInstance } from 'fastify';
import { refresh, signIn, signOut } from '../auth/sign-in.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';

const tokenResponse = {
  200: {
    type: 'object',
    properties: {
      accessToken: { type: 'string' },
      refreshToken: { type: 'string' },
      expiresInS: { type: 'integer' },
      tokenType: { type: 'string', enum: ['Bearer'] },
    },
  },
} as const;

/** Sign-in attempts per client address per minute, on top of the account lockout. */
const SIGN_IN_PER_IP_PER_MINUTE = 20;

export function registerAuthRoutes(api: FastifyInstance, deps: AppDeps): void {
  const authDeps = {
    db: deps.db,
    cipher: deps.cipher,
    accessTokenTtlS: deps.security.accessTokenTtlS,
    refreshTokenTtlS: deps.security.refreshTokenTtlS,
  };

  api.post<{ Body: { email: string; password: string } }>(
    '/auth/sign-in',
    {
      config: { public: true, rateLimit: { max: SIGN_IN_PER_IP_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        summary: 'Sign in with email and password',
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: { email: { type: 'string', maxLength: 320 }, password: { type: 'string', maxLength: 256 } },
        },
        response: tokenResponse,
      },
    },
    async (request) => {
      const result = await signIn(authDeps, request.body, {
        ip: request.sealedIp,
        requestId: request.id,
        now: deps.clock.now(),
      });
      if (!result.ok) {
        throw new ApiError(
          'InvalidCredentials',
          result.reason === 'locked' ? 'too many wrong passwords: try again later' : 'wrong email or password',
        );
      }
      return result.tokens;
    },
  );

  api.post<{ Body: { refreshToken: string } }>(
    '/auth/refresh',
    {
      config: { public: true },
      schema: {
        summary: 'Exchange a refresh token (single use) for new tokens',
        body: {
          type: 'object',
          required: ['refreshToken'],
          additionalProperties: false,
          properties: { refreshToken: { type: 'string', maxLength: 100 } },
        },
        response: tokenResponse,
      },
    },
    async (request) => {
      const result = await refresh(authDeps, request.body.refreshToken, {
        ip: request.sealedIp,
        requestId: request.id,
        now: deps.clock.now(),
      });
      if (!result.ok) throw new ApiError('Unauthenticated', 'refresh token unknown, used, expired or revoked');
      return result.tokens;
    },
  );

  api.post(
    '/auth/sign-out',
    { config: { allowDrivers: true }, schema: { summary: 'End this sign-in session (all its tokens)' } },
    async (request, reply) => {
      const principal = request.principal!;
      if (principal.kind !== 'user' || !principal.userId || !principal.sessionId) {
        throw new ApiError(
          'InvalidRequest',
          'sign-out needs an access token; revoke an API key with DELETE /api-keys/:id',
        );
      }
      await signOut(
        deps.db,
        { operatorId: principal.operatorId, userId: principal.userId, sessionId: principal.sessionId },
        { ip: request.sealedIp, requestId: request.id, now: deps.clock.now() },
      );
      return reply.status(204).send();
    },
  );

  api.get(
    '/auth/me',
    {
      config: { allowDrivers: true },
      schema: {
        summary: 'The calling principal',
        response: {
          200: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['api-key', 'user'] },
              operatorId: { type: 'string' },
              role: { type: 'string' },
              userId: { type: ['string', 'null'] },
              keyId: { type: ['string', 'null'] },
              customerId: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    async (request) => {
      const p = request.principal!;
      return {
        kind: p.kind,
        operatorId: p.operatorId,
        role: p.role,
        userId: p.userId ?? null,
        keyId: p.keyId ?? null,
        customerId: p.customerId,
      };
    },
  );
}
