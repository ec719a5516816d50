/**
 * Failed authentications per key (a station id, a remote address) in a sliding window. Once a key reached its
 * limit, further attempts are refused without checking credentials, which stops password guessing and keeps a
 * flood of bad logins from burning CPU on scrypt.
 */
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
  ) {}

  /** Whether the key reached its limit at `nowMs`. */
  blocked(key: string, nowMs: number): boolean {
    return this.#recent(key, nowMs).length >= this.maxFailures;
  }

  record(key: string, nowMs: number): void {
    const recent = this.#recent(key, nowMs);
    recent.push(nowMs);
    this.#failures.set(key, recent);
    // Bound memory under a flood of distinct keys: forget the oldest keys beyond a generous number.
    if (this.#failures.size > 100_000) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, nowMs: number): number[] {
    const list = this.#failures.get(key);
    if (!list) return [];
    const recent = list.filter((at) => nowMs - at < this.windowMs);
    if (recent.length === 0) this.#failures.delete(key);
    else if (recent.length !== list.length) this.#failures.set(key, recent);
    return recent;
  }
}
