/** Delay before the next attempt of a provider call: base × 2^(attempt−1), capped at one hour. Pure. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

export function retryDelayMs(attempt: number, baseMs: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(baseMs * 2 ** exponent, MAX_RETRY_DELAY_MS);
}
