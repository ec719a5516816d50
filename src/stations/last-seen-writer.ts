/**
 * `stations.last_seen_at` written in batches. A Heartbeat only says "still here": 10,000 stations at the default
 * interval are 167 heartbeats/s, and an UPDATE with its own commit (an fsync on durable PostgreSQL) for each was
 * the largest share of an idle fleet's database work. The time is not money and not evidence, so it is kept in
 * memory and written every few seconds with one statement for all stations: the value the operator sees is at most
 * one flush interval late, and a crash loses at most that much of it (the next heartbeat sets it again).
 *
 * A stored time is never moved backwards (a late flush must not undo a newer boot's last_seen_at).
 */
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';

/** Default time between two writes (ms). */
export const LAST_SEEN_FLUSH_INTERVAL_MS = 5_000;
/** Most stations per statement (each travels in two array parameters). */
const MAX_STATIONS_PER_STATEMENT = 10_000;

export type LastSeenWriter = {
  /** Records that the station was seen at `at`; written with the next flush. */
  touch(stationId: string, at: Date): void;
  /** Writes everything recorded so far. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  close(): Promise<void>;
};

export function createLastSeenWriter(
  db: Kysely<Database>,
  logger: Logger,
  flushIntervalMs = LAST_SEEN_FLUSH_INTERVAL_MS,
): LastSeenWriter {
  let seen = new Map<string, Date>();
  let running: Promise<void> = Promise.resolve();

  const write = async (batch: Map<string, Date>) => {
    const entries = [...batch];
    for (let i = 0; i < entries.length; i += MAX_STATIONS_PER_STATEMENT) {
      const chunk = entries.slice(i, i + MAX_STATIONS_PER_STATEMENT);
      await sql`
        update stations s set last_seen_at = v.at
        from unnest(${chunk.map(([id]) => id)}::text[], ${chunk.map(([, at]) => at.toISOString())}::timestamptz[])
          as v(id, at)
        where s.id = v.id and (s.last_seen_at is null or s.last_seen_at < v.at)`.execute(db);
    }
  };

  const flush = (): Promise<void> => {
    // Flushes run one after another, so two never race over the same rows.
    running = running.then(async () => {
      if (seen.size === 0) return;
      const batch = seen;
      seen = new Map();
      await write(batch).catch((error) =>
        logger.error({ err: error, stations: batch.size }, 'could not record when stations were last seen'),
      );
    });
    return running;
  };

  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  return {
    touch(stationId, at) {
      const previous = seen.get(stationId);
      if (!previous || previous < at) seen.set(stationId, at);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
