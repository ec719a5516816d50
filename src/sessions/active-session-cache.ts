/**
 * What the meter-value path needs to know about an Active session (its id and how many samples it holds), kept in
 * memory so that a MeterValues message does not read the session row every time. An entry is only a hint:
 *
 * - the database decides whether a sample is stored (insertSamples stores samples of Active sessions only), so an
 *   entry that outlived its session (the session ended through another node) stores nothing;
 * - the sample count is counted up here as samples are queued; near the session's limit the caller counts the
 *   stored samples again, so that the limit is decided on the stored count, never on this one;
 * - the session's end removes its entry (session-service.ts, before and after the stop's transaction).
 *
 * Bounded: beyond `maxEntries` the oldest entry is dropped (sessions whose station never stopped them).
 */
export type ActiveSessionEntry = {
  readonly sessionId: string;
  sampleCount: number;
  /** The stored samples were counted and had reached the session's limit: no further read, nothing stored. */
  readonly limitReached: boolean;
};

export class ActiveSessionCache {
  readonly #entries = new Map<string, ActiveSessionEntry>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(stationId: string, transactionId: string): ActiveSessionEntry | undefined {
    return this.#entries.get(key(stationId, transactionId));
  }

  set(stationId: string, transactionId: string, entry: ActiveSessionEntry): void {
    const k = key(stationId, transactionId);
    this.#entries.delete(k);
    this.#entries.set(k, entry);
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(stationId: string, transactionId: string): void {
    this.#entries.delete(key(stationId, transactionId));
  }
}

/** Station ids match /^[A-Za-z0-9*._:-]{1,48}$/, so a space cannot occur in one and separates the two parts. */
function key(stationId: string, transactionId: string): string {
  return `${stationId} ${transactionId}`;
}
