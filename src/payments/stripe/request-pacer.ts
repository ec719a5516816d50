/**
 * Paces a node's calls to Stripe under a rate (a token bucket: up to `perSecond` calls a second on average, bursts
 * up to one second's worth). Stripe limits each account's API requests per second (its rate-limits page: 100 in
 * live mode, 25 in test mode, 25 per endpoint unless noted) and answers 429 beyond them; the payment worker can
 * have dozens of calls in flight, so without pacing a backlog of captures (a node back after an outage, a burst of
 * stops) would be answered 429 and each call tried again. Paced, a call waits its turn here instead.
 * Real time (monotonic), not the business clock: the limit is Stripe's, per wall-clock second.
 */
import { RateLimiter } from '../../shared/rate-limiter.ts';

/** Limits on the rate itself, so that a typo in the setting cannot stall every payment or disable the pacing. */
export const PACER_MIN_PER_SECOND = 1;
export const PACER_MAX_PER_SECOND = 10_000;

export type PacerTime = {
  readonly nowMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
};

const realTime: PacerTime = {
  nowMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Returns `pace()`: resolves when the caller may send its request. */
export function createRequestPacer(perSecond: number, time: PacerTime = realTime): () => Promise<void> {
  if (!Number.isFinite(perSecond) || perSecond < PACER_MIN_PER_SECOND || perSecond > PACER_MAX_PER_SECOND) {
    throw new RangeError(`requests per second ${perSecond}: ${PACER_MIN_PER_SECOND} to ${PACER_MAX_PER_SECOND}`);
  }
  const bucket = new RateLimiter(perSecond, time.nowMs());
  return async function pace() {
    // Waiters woken together race for the tokens; a loser computes its new wait and sleeps again.
    for (;;) {
      const now = time.nowMs();
      if (bucket.take(now)) return;
      await time.sleep(Math.max(1, Math.ceil(bucket.msUntilToken(now))));
    }
  };
}

/**
 * The default rate for one node: 80 % of the account's limit for the key's mode (live 100, test 25), leaving room
 * for Stripe's dashboard, other integrations and the webhooks' own lookups. With several nodes on one Stripe
 * account, set STRIPE_REQUESTS_PER_SECOND to that share divided by the nodes.
 */
export function defaultStripeRequestsPerSecond(secretKey: string): number {
  return /^(sk|rk)_live_/.test(secretKey) ? 80 : 20;
}
