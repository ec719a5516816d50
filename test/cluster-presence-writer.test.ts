/**
 * Presence in batches (src/cluster/presence-writer.ts): a storm of connects and disconnects becomes one upsert, one
 * delete and one NOTIFY per 100 stations, with the latest event per station winning and nothing lost between
 * flushes. PostgreSQL only: presence exists for the cluster, which needs LISTEN/NOTIFY.
 */
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receive } from '../src/cluster/cluster-messages.ts';
import { BROADCAST_CHANNEL } from '../src/cluster/node-id.ts';
import { type PgListener, startPgListener } from '../src/cluster/pg-listener.ts';
import { createPresenceWriter } from '../src/cluster/presence-writer.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../src/db/open-database.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';

const skip = testBackend === 'pglite' ? 'presence is written only on PostgreSQL (cluster)' : postgresSkipReason();

describe.skipIf(skip)('station presence written in batches', () => {
  let database: DatabaseHandle;
  let listener: PgListener;
  const messages: unknown[] = [];
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    const url = await createTestDatabaseUrl();
    database = await openDatabase({ kind: 'postgres', url });
    await migrateToLatest(database.db);
    await sql`insert into cluster_nodes (node_id, started_at, heartbeat_at, expires_at) values ('node_a', now(), now(), now() + interval '1 hour')`.execute(
      database.db,
    );
    listener = startPgListener({
      url,
      channels: [BROADCAST_CHANNEL],
      logger,
      onNotification: ({ payload }) => void receive(database.db, payload).then((m) => messages.push(m)),
    });
    await listener.ready;
  });

  afterAll(async () => {
    await listener?.close();
    await database?.close();
  });

  const rows = () =>
    database.db
      .selectFrom('station_presence')
      .select(['station_id', 'node_id', 'protocol'])
      .orderBy('station_id')
      .execute();

  it('writes 250 connects, 10 disconnects and 1 reconnect as one batch: 241 rows, 3 up and 1 down broadcasts', async () => {
    const writer = createPresenceWriter(database.db, 'node_a', logger);
    const recorded: Date[] = [];
    const ids = Array.from({ length: 250 }, (_, i) => `STORM-${String(i).padStart(4, '0')}`);
    for (const id of ids) writer.connected(id, 'ocpp1.6', (at) => recorded.push(at));
    for (const id of ids.slice(0, 10)) writer.disconnected(id);
    writer.connected(ids[0] as string, 'ocpp2.0.1', (at) => recorded.push(at));
    await writer.flush();

    const stored = await rows();
    expect(stored).toHaveLength(241);
    expect(stored[0]).toEqual({ station_id: 'STORM-0000', node_id: 'node_a', protocol: 'ocpp2.0.1' });
    expect(stored.some((r) => r.station_id === 'STORM-0001')).toBe(false);
    expect(recorded).toHaveLength(241);
    expect(new Set(recorded.map((d) => d.getTime())).size).toBe(1);

    await expect.poll(() => messages.length).toBe(4);
    const ups = messages.filter((m) => (m as { t: string }).t === 'up') as { stations: string[]; at: string }[];
    const downs = messages.filter((m) => (m as { t: string }).t === 'down') as { stations: string[] }[];
    expect(ups.map((m) => m.stations.length)).toEqual([100, 100, 41]);
    expect(ups[0]?.at).toBe(recorded[0]?.toISOString());
    expect(downs.map((m) => m.stations)).toEqual([ids.slice(1, 10)]);
  });

  it('keeps events that arrive during a flush for the next one, in order per station', async () => {
    messages.length = 0;
    const writer = createPresenceWriter(database.db, 'node_a', logger);
    writer.connected('LATE-1', 'ocpp1.6', () => undefined);
    const first = writer.flush();
    // Queued while the first batch is being written: the disconnect must win over the earlier connect.
    writer.disconnected('LATE-1');
    writer.connected('LATE-2', 'ocpp1.6', () => undefined);
    await first;
    await writer.flush();
    const stored = (await rows()).map((r) => r.station_id).filter((id) => id.startsWith('LATE'));
    expect(stored).toEqual(['LATE-2']);
  });

  it('removes only the rows this node still owns', async () => {
    await sql`insert into cluster_nodes (node_id, started_at, heartbeat_at, expires_at) values ('node_b', now(), now(), now() + interval '1 hour')`.execute(
      database.db,
    );
    const b = createPresenceWriter(database.db, 'node_b', logger);
    b.connected('STORM-0100', 'ocpp1.6', () => undefined);
    await b.flush();
    const a = createPresenceWriter(database.db, 'node_a', logger);
    a.disconnected('STORM-0100');
    await a.flush();
    const row = await database.db
      .selectFrom('station_presence')
      .select('node_id')
      .where('station_id', '=', 'STORM-0100')
      .executeTakeFirst();
    expect(row?.node_id).toBe('node_b');
  });
});
