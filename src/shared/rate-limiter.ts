/** A token bucket: up to `perSecond` messages a second on average, with bursts up to one second's worth. */
export class RateLimiter {
  #tokens: number;
  #lastMs: number;

  constructor(
    private readonly perSecond: number,
    nowMs: number,
  ) {
    this.#tokens = perSecond;
    this.#lastMs = nowMs;
  }

  /** Takes one token; false when the bucket is empty (the message is over the rate). */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there to take (0 when one is there now). */
  msUntilToken(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens >= 1 ? 0 : ((1 - this.#tokens) * 1000) / this.perSecond;
  }

  #refill(nowMs: number): void {
    // A clock that went back refills nothing and restarts from its new reading (keeping the old one would refill
    // nothing until the clock caught up: every station stalled for as long as the step).
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    this.#lastMs = nowMs;
    this.#tokens = Math.min(this.perSecond, this.#tokens + (elapsedMs * this.perSecond) / 1000);
  }
}
