/**
 * What nodes tell each other over LISTEN/NOTIFY, and how a message travels: inline when its JSON fits a NOTIFY
 * payload (PostgreSQL's limit is 8000 bytes; we stay well under it), otherwise as a cluster_messages row whose id
 * the NOTIFY carries. Only point-to-point messages (commands, replies) can be large; broadcasts carry ids only.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { CommandName } from '../ocpp/commands/build-command.ts';
import type { CommandOutcome } from '../ocpp/commands/run-command.ts';

export type ClusterMessage =
  /** Run `command` on `station`, which the receiving node holds; reply to node `from`. */
  | {
      readonly t: 'cmd';
      readonly id: string;
      readonly from: string;
      readonly station: string;
      readonly command: CommandName;
      readonly input: Record<string, unknown>;
    }
  /** Command `id` arrived at the station's node and runs (a dead node's silence is noticed within seconds). */
  | { readonly t: 'ack'; readonly id: string }
  /** The outcome of command `id`, as the station's node got it. */
  | { readonly t: 'res'; readonly id: string; readonly outcome: CommandOutcome }
  /**
   * Broadcast: `stations` connected to `node` at the database time `at` (ISO), or disconnected from it. Presence is
   * written in batches (presence-writer.ts), so one message names up to MAX_PRESENCE_STATIONS_PER_MESSAGE stations.
   */
  | { readonly t: 'up'; readonly stations: readonly string[]; readonly node: string; readonly at: string }
  | { readonly t: 'down'; readonly stations: readonly string[]; readonly node: string };

/** Largest payload sent inline, in bytes (NOTIFY allows 8000 minus the channel name). */
export const MAX_INLINE_PAYLOAD_BYTES = 7000;
/**
 * Station ids per presence broadcast: ids have at most 48 characters (STATION_ID_PATTERN), so 100 of them stay
 * inline (about 5,100 bytes at most) and a storm's presence costs one NOTIFY per 100 stations, no table row.
 */
export const MAX_PRESENCE_STATIONS_PER_MESSAGE = 100;

/** Sends a message on a channel; a large one goes through cluster_messages. */
export async function publish(db: Kysely<Database>, channel: string, message: ClusterMessage): Promise<void> {
  let payload = JSON.stringify(message);
  if (Buffer.byteLength(payload, 'utf8') > MAX_INLINE_PAYLOAD_BYTES) {
    const row = await db
      .insertInto('cluster_messages')
      .values({ body: payload })
      .returning('id')
      .executeTakeFirstOrThrow();
    payload = JSON.stringify({ t: 'ref', id: String(row.id) });
  }
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/** The message a payload carries (reading and deleting its row when it is a reference), or undefined. */
export async function receive(db: Kysely<Database>, payload: string): Promise<ClusterMessage | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const ref = parsed as { t?: unknown; id?: unknown } | null;
  if (
    ref !== null &&
    typeof ref === 'object' &&
    ref.t === 'ref' &&
    typeof ref.id === 'string' &&
    /^\d{1,19}$/.test(ref.id)
  ) {
    const row = await db
      .deleteFrom('cluster_messages')
      .where('id', '=', BigInt(ref.id))
      .returning('body')
      .executeTakeFirst();
    if (!row) return undefined;
    return receive(db, row.body);
  }
  return isClusterMessage(parsed) ? parsed : undefined;
}

function isClusterMessage(value: unknown): value is ClusterMessage {
  const m = value as { t?: unknown; id?: unknown; station?: unknown; node?: unknown };
  if (typeof m !== 'object' || m === null) return false;
  if (m.t === 'cmd' || m.t === 'res' || m.t === 'ack') return typeof m.id === 'string';
  if (m.t === 'up' || m.t === 'down') {
    const { stations } = value as { stations?: unknown };
    return (
      typeof m.node === 'string' &&
      Array.isArray(stations) &&
      stations.length <= MAX_PRESENCE_STATIONS_PER_MESSAGE &&
      stations.every((s) => typeof s === 'string') &&
      (m.t === 'down' || typeof (value as { at?: unknown }).at === 'string')
    );
  }
  return false;
}
