/**
 * The /api/v1 preParsing hook: every route needs a credential unless it declares `config: { public: true }`;
 * each principal is rate-limited; drivers pass only where a route declares `config: { allowDrivers: true }`
 * (default deny, so a new staff route cannot leak operator-wide data to a driver by omission).
 */
import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Clock } from '../../shared/clock.ts';
import { ApiError } from '../errors.ts';
import { authenticateBearer } from './authenticate.ts';
import type { PrincipalRateLimiter } from './principal-rate-limit.ts';

export function createAuthenticateHook(deps: {
  db: Kysely<Database>;
  clock: Clock;
  tokenSigningKey: Uint8Array;
  limiter: PrincipalRateLimiter;
}) {
  // preParsing: after the per-IP rate limit (a route-level onRequest hook, so it counts anonymous floods too) and
  // before the body is read (an unauthenticated caller's body is never parsed).
  return async (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload): Promise<RequestPayload> => {
    const config = request.routeOptions.config;
    if (config?.public) return payload;
    const header = request.headers.authorization;
    const credential = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    if (!credential) {
      throw new ApiError('Unauthenticated', 'send an API key or access token: Authorization: Bearer <credential>');
    }
    const now = deps.clock.now();
    const principal = await authenticateBearer(deps, credential, now);
    if (!principal) throw new ApiError('Unauthenticated', 'unknown, expired or revoked credential');
    const waitS = await deps.limiter.hit(principal.actor, now);
    if (waitS > 0) {
      reply.header('retry-after', String(waitS));
      throw new ApiError('RateLimited', `too many requests for this credential; retry in ${waitS} s`);
    }
    if (principal.role === 'driver' && !config?.allowDrivers) {
      throw new ApiError('Forbidden', 'drivers cannot use this endpoint');
    }
    request.principal = principal;
    return payload;
  };
}
