/**
 * Batch scheduling for thousands of simulated stations: one interval timer drives every wait of a load run.
 * A station that waits puts its wake-up into the bucket of its due tick; each tick wakes all stations of the
 * buckets that fell due. So ten thousand stations sending a meter value every 10 s cost one timer, not ten
 * thousand, and stations due in the same tick send in one burst, as a fleet on a common clock does.
 */
export interface Scheduler {
  /** Resolves after about `delayMs` real milliseconds (rounded up to the tick), or at once when stopped. */
  sleep(delayMs: number): Promise<void>;
  /** Real milliseconds since the scheduler was created. */
  nowMs(): number;
  /** Waits in buckets not yet due. */
  readonly pending: number;
  /** Wakes every waiting station and stops the tick; later sleeps resolve at once. */
  stop(): void;
}

/** The default tick: fine enough for a 1 s meter interval, coarse enough to batch a fleet's sends. */
export const DEFAULT_TICK_MS = 10;

export function createScheduler(options: { tickMs?: number; now?: () => number } = {}): Scheduler {
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const clock = options.now ?? (() => performance.now());
  const startMs = clock();
  const buckets = new Map<number, (() => void)[]>();
  let pending = 0;
  let lastTick = Math.floor(0 / tickMs);
  let stopped = false;

  const runDue = (): void => {
    const dueTick = Math.floor((clock() - startMs) / tickMs);
    // Buckets are keyed by tick number; walking from the last processed tick keeps each tick O(due waits).
    for (let tick = lastTick; tick <= dueTick; tick += 1) {
      const wakeups = buckets.get(tick);
      if (wakeups === undefined) continue;
      buckets.delete(tick);
      pending -= wakeups.length;
      for (const wake of wakeups) wake();
    }
    lastTick = dueTick + 1;
  };
  const timer = setInterval(runDue, tickMs);

  return {
    sleep(delayMs) {
      if (stopped) return Promise.resolve();
      const dueTick = Math.max(lastTick, Math.ceil((clock() - startMs + Math.max(0, delayMs)) / tickMs));
      return new Promise<void>((resolve) => {
        const bucket = buckets.get(dueTick);
        if (bucket) bucket.push(resolve);
        else buckets.set(dueTick, [resolve]);
        pending += 1;
      });
    },
    nowMs: () => clock() - startMs,
    get pending() {
      return pending;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const wakeups of buckets.values()) for (const wake of wakeups) wake();
      buckets.clear();
      pending = 0;
    },
  };
}
