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
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    this.#lastMs = nowMs;
    this.#tokens = Math.min(this.perSecond, this.#tokens + (elapsedMs * this.perSecond) / 1000);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
