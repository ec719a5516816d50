/**
 * The rate limit of the provider's webhook endpoint: refused requests count, signed ones do not.
 *
 * Why not the API's per-address limit (VOLTBILL_RATE_LIMIT_PER_IP, 600 a minute): a card provider sends several
 * events per payment from a handful of addresses. At 100 paid sessions/s, Stripe's three events per session are
 * 18,000 requests a minute from about a dozen addresses, so that limit would answer most of them 429, and the
 * provider would retry them for days and finally disable the endpoint. A request whose signature verifies can only
 * come from the provider (a replay inside the signature's tolerance is a duplicate event id and changes nothing), so
 * it is not limited. A request that is refused (no or bad signature, stale timestamp, malformed, unknown provider)
 * counts against its address; an address refused `maxRefusalsPerMinute` times (VOLTBILL_RATE_LIMIT_PER_IP) in the
 * current clock minute is answered 429, unverified, until the minute ends. Counted in this node's memory: a forger is
 * slowed on each node it reaches, which is enough, since a refused request costs one HMAC and no database work.
 */
import { createMemoryRateCounter } from '../auth/rate-counter.ts';

const WINDOW_MS = 60_000;
/** Addresses tracked at most (the counter drops finished windows first): bounds memory under a spoofed flood. */
const MAX_TRACKED_ADDRESSES = 10_000;

export type WebhookRefusalGate = {
  /** Seconds until `address` may be heard again, or 0 when it is not over its refusals. */
  retryAfterS(address: string, now: Date): number;
  /** Counts one refused request from `address`. */
  refused(address: string, now: Date): Promise<void>;
};

export function createWebhookRefusalGate(maxRefusalsPerMinute: number): WebhookRefusalGate {
  const counter = createMemoryRateCounter(MAX_TRACKED_ADDRESSES);
  /** Addresses over the limit, until the end of the window in which they went over. */
  const blockedUntilMs = new Map<string, number>();
  return {
    retryAfterS(address, now) {
      const until = blockedUntilMs.get(address);
      if (until === undefined) return 0;
      if (until <= now.getTime()) {
        blockedUntilMs.delete(address);
        return 0;
      }
      return Math.max(1, Math.ceil((until - now.getTime()) / 1000));
    },
    async refused(address, now) {
      const { hits, resetInMs } = await counter.hit(address, WINDOW_MS, now);
      if (hits < maxRefusalsPerMinute) return; // the limit-th refusal is the last one heard this minute
      if (blockedUntilMs.size >= MAX_TRACKED_ADDRESSES) {
        for (const [key, until] of blockedUntilMs) if (until <= now.getTime()) blockedUntilMs.delete(key);
        if (blockedUntilMs.size >= MAX_TRACKED_ADDRESSES) blockedUntilMs.clear();
      }
      blockedUntilMs.set(address, now.getTime() + resetInMs);
    },
  };
}
