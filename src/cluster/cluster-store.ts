/**
 * The cluster's tables (migrations/0010_cluster.sql): node liveness, station presence, job claims. Every time is
 * the database's now(), so that the nodes' own clocks (and a test's fixed domain clock) play no part.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';

/** Registers or renews a node: alive until now() + ttlS. */
export async function renewNode(db: Kysely<Database>, nodeId: string, ttlS: number): Promise<void> {
  await sql`
    insert into cluster_nodes (node_id, started_at, heartbeat_at, expires_at)
    values (${nodeId}, now(), now(), now() + make_interval(secs => ${ttlS}::float8))
    on conflict (node_id) do update set heartbeat_at = now(), expires_at = excluded.expires_at`.execute(db);
}

/** A node shutting down: its stations are offline at once, not after its TTL. */
export async function removeNode(db: Kysely<Database>, nodeId: string): Promise<void> {
  await db.deleteFrom('station_presence').where('node_id', '=', nodeId).execute();
  await db.deleteFrom('cluster_nodes').where('node_id', '=', nodeId).execute();
}

/**
 * The heartbeat's repair of this node's presence rows: refreshes last_seen_at of the stations still here, adds rows
 * that are missing (a write lost to a database outage), and removes rows of stations no longer here. Rows of a
 * station that another node claimed since are left alone.
 */
export async function syncPresence(
  db: Kysely<Database>,
  nodeId: string,
  local: ReadonlyMap<string, string>,
): Promise<void> {
  const ids = [...local.keys()];
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('station_presence').set({ last_seen_at: sql`now()` }).where('node_id', '=', nodeId).execute();
    let stale = trx.deleteFrom('station_presence').where('node_id', '=', nodeId);
    if (ids.length > 0) stale = stale.where('station_id', 'not in', ids);
    await stale.execute();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = ids.slice(i, i + 1000).map((id) => ({
        station_id: id,
        node_id: nodeId,
        protocol: local.get(id) ?? 'ocpp1.6',
        connected_at: sql<Date>`now()`,
        last_seen_at: sql<Date>`now()`,
      }));
      await trx
        .insertInto('station_presence')
        .values(rows)
        .onConflict((oc) => oc.column('station_id').doNothing())
        .execute();
    }
  });
}

/** The node that holds `stationId`'s socket, if that node is alive. */
export async function findStationNode(db: Kysely<Database>, stationId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('station_presence as p')
    .innerJoin('cluster_nodes as n', 'n.node_id', 'p.node_id')
    .select('p.node_id')
    .where('p.station_id', '=', stationId)
    .where('n.expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return row?.node_id;
}

/** Stations connected to other live nodes: station id → node id. */
export async function remoteStations(db: Kysely<Database>, nodeId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('station_presence as p')
    .innerJoin('cluster_nodes as n', 'n.node_id', 'p.node_id')
    .select(['p.station_id', 'p.node_id'])
    .where('p.node_id', '<>', nodeId)
    .where('n.expires_at', '>', sql<Date>`now()`)
    .execute();
  return new Map(rows.map((r) => [r.station_id, r.node_id]));
}

/** Housekeeping any node may do: presence of dead nodes, nodes dead for an hour, unread large messages. */
export async function removeStaleClusterRows(db: Kysely<Database>): Promise<void> {
  await sql`
    delete from station_presence p
    where not exists (select 1 from cluster_nodes n where n.node_id = p.node_id and n.expires_at > now())`.execute(db);
  await sql`delete from cluster_nodes where expires_at < now() - interval '1 hour'`.execute(db);
  await sql`delete from cluster_messages where created_at < now() - interval '1 hour'`.execute(db);
}

/**
 * Claims this period's run of a periodic job: true for exactly one caller per period across all nodes. The next
 * period starts a tenth of the period early, so that a node whose timer fires a few milliseconds early does not
 * miss its turn and leave the period without a run.
 */
export async function claimJobRun(
  db: Kysely<Database>,
  nodeId: string,
  job: string,
  periodMs: number,
): Promise<boolean> {
  await db
    .insertInto('cluster_jobs')
    .values({ name: job, next_run_at: sql<Date>`now()`, last_node_id: null, last_claimed_at: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const claimed = await sql<{ name: string }>`
    update cluster_jobs
    set next_run_at = now() + make_interval(secs => ${(periodMs * 0.9) / 1000}::float8),
        last_node_id = ${nodeId}, last_claimed_at = now()
    where name = ${job} and next_run_at <= now()
    returning name`.execute(db);
  return claimed.rows.length === 1;
}
