import { describe, expect, it } from 'vitest';
import { DEFAULT_PAYMENT_SETTINGS } from '../payment-context.ts';
import { MAX_RETRY_DELAY_MS, RATE_LIMITED_MAX_DELAY_MS, rateLimitedDelayMs, retryDelayMs } from './backoff.ts';

describe('retryDelayMs', () => {
  it('doubles from the base and stops at one hour', () => {
    expect([1, 2, 3, 11, 12, 13, 40].map((attempt) => retryDelayMs(attempt, 2000))).toEqual([
      2000,
      4000,
      8000,
      2_048_000,
      MAX_RETRY_DELAY_MS,
      MAX_RETRY_DELAY_MS,
      MAX_RETRY_DELAY_MS,
    ]);
    // Attempt 0 (never worked) waits the base; an absurd attempt count does not overflow to Infinity or NaN.
    expect(retryDelayMs(0, 2000)).toBe(2000);
    expect(retryDelayMs(Number.MAX_SAFE_INTEGER, 1)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('with the default settings, the retries of one step span about 21 hours before the payment fails', () => {
    const { maxAttempts, retryBaseMs } = DEFAULT_PAYMENT_SETTINGS;
    // The step fails for good at its last attempt; the waits come after each attempt before it.
    let spanMs = 0;
    for (let attempt = 1; attempt < maxAttempts; attempt++) spanMs += retryDelayMs(attempt, retryBaseMs);
    // 2 + 4 + ... + 2,048 s (4,094 s), then 20 hourly waits.
    expect(spanMs).toBe(4_094_000 + 20 * 3_600_000);
    expect(spanMs / 3_600_000).toBeCloseTo(21.14, 2);
  });

  it('a step refused for the rate waits an eighth of its age: the base at first, a minute at most', () => {
    expect(
      [0, 1000, 16_000, 80_000, 480_000, 3_600_000, -5000].map((ageMs) => rateLimitedDelayMs(ageMs, 2000)),
    ).toEqual([2000, 2000, 2000, 10_000, RATE_LIMITED_MAX_DELAY_MS, RATE_LIMITED_MAX_DELAY_MS, 2000]);
  });
});
