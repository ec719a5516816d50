/**
 * Requests per minute per API key or signed-in user (the per-IP limit is @fastify/rate-limit's, on the same
 * counter: rate-limit-store.ts). Counted by a RateCounter: in memory on embedded PGlite (one node), in PostgreSQL
 * when several nodes share one database, so that a caller gets the limit once, not once per node.
 */
import { createMemoryRateCounter, type RateCounter } from './rate-counter.ts';

const WINDOW_MS = 60_000;

export type PrincipalRateLimiter = {
  /** Counts one request; the seconds to wait when over the limit, or 0. */
  hit(principalKey: string, now: Date): Promise<number>;
};

export function createPrincipalRateLimiter(
  maxPerMinute: number,
  counter: RateCounter = createMemoryRateCounter(),
): PrincipalRateLimiter {
  return {
    async hit(principalKey, now) {
      // A counter that cannot count (the database is unreachable) lets the request through: the request then
      // fails on its own database work, and a limit must not turn a database blip into refusals.
      const count = await counter.hit(`principal:${principalKey}`, WINDOW_MS, now).catch(() => undefined);
      if (!count) return 0;
      if (count.hits <= maxPerMinute) return 0;
      return Math.max(1, Math.ceil(count.resetInMs / 1000));
    },
  };
}
