/**
 * A @fastify/rate-limit store on a RateCounter, so that the per-IP limit (and a route's own limit, such as
 * sign-in's) is counted in PostgreSQL and shared by every node. The plugin constructs the store with `new`
 * and asks each route with its own limit for a `child`, whose keys are prefixed with the route.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RateCounter } from './rate-counter.ts';

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1];

export function rateLimitStoreOn(counter: RateCounter, now: () => Date): FastifyRateLimitStoreCtor {
  class CounterStore implements FastifyRateLimitStore {
    readonly prefix: string;

    constructor(_globalParams?: unknown, prefix = 'ip:') {
      this.prefix = prefix;
    }

    incr(key: string, callback: IncrCallback, timeWindowMs: number): void {
      counter.hit(`${this.prefix}${key}`, timeWindowMs, now()).then(
        (count) => callback(null, { current: count.hits, ttl: count.resetInMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    child(routeOptions: unknown): FastifyRateLimitStore {
      // The plugin passes the merged limit settings with the route as `routeInfo` (not in its type declarations).
      const route = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      return new CounterStore(undefined, `ip:${String(route.method ?? '')} ${String(route.url ?? '')}:`);
    }
  }
  return CounterStore;
}
