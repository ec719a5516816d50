/**
 * Writes this node's station presence in batches. A reconnect storm brings hundreds of connects per second; one
 * upsert and one NOTIFY per station (two commits each) made presence the largest share of a boot's statements. Here
 * every connect and disconnect is queued, the latest event per station wins, and one flush writes them all: one
 * upsert for the arrivals, one delete for the departures, one NOTIFY per chunk of station ids.
 *
 * Order per station is kept because flushes never overlap: an event queued during a flush goes into the next one,
 * so a quick reconnect is never overtaken by its own disconnect. A failed flush is logged and dropped: the node's
 * heartbeat repairs its presence rows (syncPresence) within one beat, as it did for single writes before.
 */
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import { MAX_PRESENCE_STATIONS_PER_MESSAGE, publish } from './cluster-messages.ts';
import { BROADCAST_CHANNEL } from './node-id.ts';

/** How long a connect may wait for company before its presence is written (ms): a storm's batching window. */
const FLUSH_DELAY_MS = 20;
/** Most stations in one statement (the arrays travel as two parameters; this bounds their size). */
const MAX_STATIONS_PER_STATEMENT = 5_000;

type PresenceEvent =
  | { readonly kind: 'up'; readonly protocol: string; readonly onRecorded: (connectedAt: Date) => void }
  | { readonly kind: 'down' };

export type PresenceWriter = {
  connected(stationId: string, protocol: string, onRecorded: (connectedAt: Date) => void): void;
  disconnected(stationId: string): void;
  /** Resolves when everything queued so far is written (or failed and was logged). */
  flush(): Promise<void>;
};

export function createPresenceWriter(db: Kysely<Database>, nodeId: string, log: Logger): PresenceWriter {
  let queued = new Map<string, PresenceEvent>();
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (timer || running) return;
    timer = setTimeout(() => {
      timer = undefined;
      void drain();
    }, FLUSH_DELAY_MS);
  };

  const drain = (): Promise<void> => {
    if (running) return running;
    running = (async () => {
      while (queued.size > 0) {
        const batch = queued;
        queued = new Map();
        await write(batch).catch((error) =>
          log.error({ err: error, stations: batch.size }, 'could not record station presence'),
        );
      }
    })().finally(() => {
      running = undefined;
      // Events queued between the loop's last look and here would otherwise wait for the next event.
      if (queued.size > 0) schedule();
    });
    return running;
  };

  const write = async (batch: Map<string, PresenceEvent>) => {
    const ups = [...batch].filter((entry): entry is [string, PresenceEvent & { kind: 'up' }] => entry[1].kind === 'up');
    const downs = [...batch].filter(([, event]) => event.kind === 'down').map(([id]) => id);
    for (let i = 0; i < ups.length; i += MAX_STATIONS_PER_STATEMENT) {
      const chunk = ups.slice(i, i + MAX_STATIONS_PER_STATEMENT);
      const result = await sql<{ connected_at: Date }>`
        insert into station_presence (station_id, node_id, protocol, connected_at, last_seen_at)
        select s.station_id, ${nodeId}, s.protocol, now(), now()
        from unnest(${chunk.map(([id]) => id)}::text[], ${chunk.map(([, e]) => e.protocol)}::text[])
          as s(station_id, protocol)
        on conflict (station_id) do update
          set node_id = excluded.node_id, protocol = excluded.protocol, connected_at = now(), last_seen_at = now()
        returning connected_at`.execute(db);
      const at = new Date(result.rows[0]?.connected_at ?? Date.now());
      for (const [, event] of chunk) event.onRecorded(at);
      for (let j = 0; j < chunk.length; j += MAX_PRESENCE_STATIONS_PER_MESSAGE) {
        const stations = chunk.slice(j, j + MAX_PRESENCE_STATIONS_PER_MESSAGE).map(([id]) => id);
        await publish(db, BROADCAST_CHANNEL, { t: 'up', stations, node: nodeId, at: at.toISOString() });
      }
    }
    for (let i = 0; i < downs.length; i += MAX_STATIONS_PER_STATEMENT) {
      const chunk = downs.slice(i, i + MAX_STATIONS_PER_STATEMENT);
      // Only rows this node still owns: the station may have moved to another node meanwhile.
      await sql`delete from station_presence where node_id = ${nodeId} and station_id = any(${chunk}::text[])`.execute(
        db,
      );
      for (let j = 0; j < chunk.length; j += MAX_PRESENCE_STATIONS_PER_MESSAGE) {
        const stations = chunk.slice(j, j + MAX_PRESENCE_STATIONS_PER_MESSAGE);
        await publish(db, BROADCAST_CHANNEL, { t: 'down', stations, node: nodeId });
      }
    }
  };

  return {
    connected(stationId, protocol, onRecorded) {
      queued.set(stationId, { kind: 'up', protocol, onRecorded });
      schedule();
    },
    disconnected(stationId) {
      queued.set(stationId, { kind: 'down' });
      schedule();
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      await drain();
    },
  };
}
