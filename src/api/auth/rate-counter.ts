/**
 * Fixed-window request counters behind the API's rate limits. Windows are aligned to the epoch (a 60 s window
 * starts at every whole minute), so every node agrees on which window a request falls in without talking to the
 * others. Two implementations: in this node's memory (embedded PGlite: one node), and a PostgreSQL table shared
 * by all nodes on one database (one upsert per counted request), so N nodes enforce one limit, not N.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';

export type RateCount = {
  /** Hits of this key in the current window, this one included. */
  readonly hits: number;
  /** Milliseconds until the window ends (and the count starts again). */
  readonly resetInMs: number;
};

export type RateCounter = {
  readonly kind: 'memory' | 'database';
  /** Counts one hit of `key` in the window of `windowMs` that contains `now`. */
  hit(key: string, windowMs: number, now: Date): Promise<RateCount>;
};

export function windowStartMs(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs) * windowMs;
}

/** Most keys the memory counter tracks; past it, finished windows are dropped first, then everything. */
const MAX_TRACKED_KEYS = 100_000;

export function createMemoryRateCounter(maxTracked = MAX_TRACKED_KEYS): RateCounter {
  const windows = new Map<string, { startMs: number; hits: number }>();
  return {
    kind: 'memory',
    async hit(key, windowMs, now) {
      const nowMs = now.getTime();
      const startMs = windowStartMs(nowMs, windowMs);
      let window = windows.get(key);
      if (!window || window.startMs !== startMs) {
        if (!window && windows.size >= maxTracked) {
          for (const [k, w] of windows) if (w.startMs + windowMs <= nowMs) windows.delete(k);
          if (windows.size >= maxTracked) windows.clear();
        }
        window = { startMs, hits: 0 };
        windows.set(key, window);
      }
      window.hits += 1;
      return { hits: window.hits, resetInMs: startMs + windowMs - nowMs };
    },
  };
}

export type DatabaseRateCounterOptions = {
  /**
   * Maps a rate-limit key (a client address, a principal) to the stored bucket: an HMAC, so the table never holds
   * addresses and the bucket is the same on every node. Must return 64 hex characters.
   */
  readonly bucketOf: (key: string) => string;
  /** How often this node deletes finished windows (at most once per interval, after a hit). */
  readonly pruneEveryMs?: number;
  /** Called when pruning fails (it is retried at the next interval). */
  readonly onPruneError?: (error: unknown) => void;
};

/**
 * Counts in rate_limit_windows: `insert ... on conflict do update set hits = hits + 1 returning hits`, one
 * statement and one row lock per counted request. Rows of finished windows are deleted by whichever node prunes
 * next (windows older than twice the longest window this node has counted), so the table stays small: about
 * (active keys) x (2 windows).
 */
export function createDatabaseRateCounter(db: Kysely<Database>, options: DatabaseRateCounterOptions): RateCounter {
  const pruneEveryMs = options.pruneEveryMs ?? 60_000;
  let lastPruneMs = 0;
  let longestWindowMs = 0;
  let pruning = false;

  const prune = (nowMs: number) => {
    if (pruning || nowMs - lastPruneMs < pruneEveryMs) return;
    pruning = true;
    lastPruneMs = nowMs;
    const before = new Date(windowStartMs(nowMs, longestWindowMs) - longestWindowMs);
    db.deleteFrom('rate_limit_windows')
      .where('window_start', '<', before)
      .execute()
      .catch((error: unknown) => options.onPruneError?.(error))
      .finally(() => {
        pruning = false;
      });
  };

  return {
    kind: 'database',
    async hit(key, windowMs, now) {
      const nowMs = now.getTime();
      const startMs = windowStartMs(nowMs, windowMs);
      longestWindowMs = Math.max(longestWindowMs, windowMs);
      const row = await db
        .insertInto('rate_limit_windows')
        .values({ bucket: options.bucketOf(key), window_start: new Date(startMs), hits: 1 })
        .onConflict((oc) =>
          oc.columns(['bucket', 'window_start']).doUpdateSet({ hits: sql<number>`rate_limit_windows.hits + 1` }),
        )
        .returning('hits')
        .executeTakeFirstOrThrow();
      prune(nowMs);
      return { hits: Number(row.hits), resetInMs: startMs + windowMs - nowMs };
    },
  };
}
