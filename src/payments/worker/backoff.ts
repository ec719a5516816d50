/** Delay before the next attempt of a provider call: base × 2^(attempt−1), capped at one hour. Pure. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

export function retryDelayMs(attempt: number, baseMs: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(baseMs * 2 ** exponent, MAX_RETRY_DELAY_MS);
}

/**
 * No step is sent again once it is this old (from when it was queued, just before its first send): Stripe keeps an
 * idempotency key for at least 24 hours, so a retry never relies on a forgotten key, which could move money a second
 * time (a second PaymentIntent, a second refund). A step that would retry past it fails instead (its payment's
 * dunning starts; a provider's fault is not counted against the card). It also bounds a storm of 429s, which spend
 * no attempt.
 */
export const STEP_MAX_AGE_MS = 23 * 3_600_000;
/** The longest wait between two tries of a step refused for the provider's rate. */
export const RATE_LIMITED_MAX_DELAY_MS = 60_000;

/**
 * Delay before retrying a step the provider refused for its rate: an eighth of the step's age, at least `baseMs`,
 * at most a minute (a new step tries again after the base; one refused for 8 minutes, once a minute). Pure.
 */
export function rateLimitedDelayMs(ageMs: number, baseMs: number): number {
  return Math.min(RATE_LIMITED_MAX_DELAY_MS, Math.max(baseMs, Math.floor(Math.max(ageMs, 0) / 8)));
}
