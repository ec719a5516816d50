/**
 * Two Voltbill nodes on one PostgreSQL serve one network: node A is a real `voltbill serve` child process, node B
 * runs in this process. A station on node A gets a remote command issued through node B's API and its answer
 * comes back (also one too large for a NOTIFY payload); periodic jobs run once per period across the nodes;
 * node B's live event stream shows a station on node A; and when node A is killed (SIGKILL) mid-transaction, the
 * station reconnects to node B, stops the transaction there and the session is billed exactly once.
 * PostgreSQL only: the embedded database is one process and has no LISTEN/NOTIFY between processes.
 */
import { sql } from 'kysely';
import { RPCClient } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimJobRun } from '../src/cluster/cluster-store.ts';
import type { RunningServer } from '../src/main.ts';
import { type ChildNode, eventually, spawnServeNode, startInProcessNode } from './support/cluster-nodes.ts';
import { connectV201Station } from './support/ocpp-v201-client.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';

const skip =
  testBackend === 'pglite'
    ? 'a cluster needs PostgreSQL (LISTEN/NOTIFY between processes); embedded PGlite is a single node'
    : postgresSkipReason();

const CLUSTER_ENV = {
  VOLTBILL_CLUSTER_HEARTBEAT_S: '1',
  VOLTBILL_CLUSTER_NODE_TTL_S: '3',
  VOLTBILL_RECONCILE_INTERVAL_S: '1',
};

type Client = {
  // biome-ignore lint/suspicious/noExplicitAny: replies are checked by the assertions, not by the compiler.
  call(method: string, params?: unknown): Promise<any>;
  handle(method: string, handler: (call: { params: unknown }) => unknown): void;
  close(options?: { force?: boolean }): Promise<unknown>;
};

async function connect(ocppUrl: string, stationId: string): Promise<Client> {
  const client = new RPCClient({
    endpoint: ocppUrl,
    identity: stationId,
    protocols: ['ocpp1.6'],
    strictMode: false,
    reconnect: false,
    callTimeoutMs: 10_000,
  } as ConstructorParameters<typeof RPCClient>[0]);
  await client.connect();
  const boot = await client.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X' });
  expect((boot as { status: string }).status).toBe('Accepted');
  return client as unknown as Client;
}

describe.skipIf(skip)('cluster: two nodes on one PostgreSQL', () => {
  let nodeA: ChildNode;
  let nodeB: RunningServer;
  let apiKey: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    const url = await createTestDatabaseUrl();
    // Node B migrates and seeds the database; node A then starts on it as a real `voltbill serve` process.
    nodeB = await startInProcessNode(url, { ...CLUSTER_ENV, VOLTBILL_NODE_ID: 'node_b' }, { seed: true });
    apiKey = nodeB.seeded?.adminApiKey as string;
    nodeA = await spawnServeNode(url, { ...CLUSTER_ENV, VOLTBILL_NODE_ID: 'node_a' });
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) await client.close({ force: true }).catch(() => undefined);
    await nodeA?.kill();
    await nodeB?.close();
  });

  const db = () => nodeB.database.db;
  const commandViaB = (stationId: string, name: string, body: Record<string, unknown> = {}) =>
    nodeB.app.inject({
      method: 'POST',
      url: `/api/v1/stations/${stationId}/commands/${name}`,
      headers: { authorization: `Bearer ${apiKey}` },
      payload: body,
    });
  const presence = (stationId: string) =>
    db().selectFrom('station_presence').select('node_id').where('station_id', '=', stationId).executeTakeFirst();

  it('records both nodes and which node holds each station', async () => {
    const nodes = await db().selectFrom('cluster_nodes').select('node_id').orderBy('node_id').execute();
    expect(nodes.map((n) => n.node_id)).toEqual(['node_a', 'node_b']);
    const station = await connect(nodeA.ocppUrl, 'DEMO-0003');
    clients.push(station);
    expect(await eventually(async () => (await presence('DEMO-0003'))?.node_id)).toBe('node_a');
    await eventually(() => (nodeB.cluster?.connectedStations().includes('DEMO-0003') ? true : undefined));
    expect(nodeB.gateway.connectedStations()).not.toContain('DEMO-0003');
  });

  it("runs a command through node B's API on a station connected to node A and returns its answer", async () => {
    const station = clients[0] as Client;
    const received: unknown[] = [];
    station.handle('RemoteStartTransaction', ({ params }: { params: unknown }) => {
      received.push(params);
      return { status: 'Accepted' };
    });
    station.handle('Reset', () => ({ status: 'Rejected' }));
    // 300 keys of about 60 bytes: the answer (~20 KB) is far beyond a NOTIFY payload and travels as a row.
    const keys = Array.from({ length: 300 }, (_, i) => ({
      key: `VendorKey${i}`,
      readonly: true,
      value: 'x'.repeat(40),
    }));
    station.handle('GetConfiguration', () => ({ configurationKey: keys }));

    const start = await commandViaB('DEMO-0003', 'remote-start', { evseId: 1, idTag: 'DEMO0003' });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toEqual({
      ok: true,
      protocol: 'ocpp1.6',
      method: 'RemoteStartTransaction',
      reply: { status: 'Accepted' },
      accepted: true,
    });
    expect(received).toEqual([{ connectorId: 1, idTag: 'DEMO0003' }]);

    const reset = await commandViaB('DEMO-0003', 'reset', { type: 'Hard' });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toMatchObject({ ok: true, method: 'Reset', reply: { status: 'Rejected' }, accepted: false });

    const config = await commandViaB('DEMO-0003', 'get-configuration');
    expect(config.statusCode).toBe(200);
    expect(config.json().reply.configurationKey).toEqual(keys);
    const leftover = await db().selectFrom('cluster_messages').select('id').execute();
    expect(leftover).toEqual([]);

    const offline = await commandViaB('DEMO-0007', 'reset', { type: 'Hard' });
    expect(offline.statusCode).toBe(409);
    expect(offline.json().error.code).toBe('StationNotConnected');
  });

  it("runs a command through node A's API on an OCPP 2.0.1 station connected to node B", async () => {
    // The other direction, and the other protocol: node A is the `voltbill serve` child, node B holds the station.
    const station = await connectV201Station(nodeB, 'DEMO-0004');
    try {
      const boot = await station.call('BootNotification', {
        reason: 'PowerUp',
        chargingStation: { vendorName: 'ACME', model: 'X' },
      });
      expect(boot.status).toBe('Accepted');
      await eventually(async () => ((await presence('DEMO-0004'))?.node_id === 'node_b' ? true : undefined));
      station.answer('RequestStartTransaction', () => ({ status: 'Accepted' }));
      const response = await fetch(`${nodeA.httpUrl}/api/v1/stations/DEMO-0004/commands/remote-start`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ evseId: 1, idTag: 'DEMO0004' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        ok: true,
        protocol: 'ocpp2.0.1',
        method: 'RequestStartTransaction',
        reply: { status: 'Accepted' },
        accepted: true,
      });
      const sent = await station.nextReceived('RequestStartTransaction');
      expect(sent.params).toMatchObject({ evseId: 1, idToken: { idToken: 'DEMO0004', type: 'Central' } });
    } finally {
      await station.close({ force: true });
    }
  });

  it('answers StationTimeout within seconds when the node holding the station is silent', async () => {
    // A node that is still within its liveness TTL but no longer answers (killed a moment ago).
    await sql`insert into cluster_nodes (node_id, started_at, heartbeat_at, expires_at)
      values ('node_ghost', now(), now(), now() + interval '1 minute')`.execute(db());
    await sql`insert into station_presence (station_id, node_id, protocol, connected_at, last_seen_at)
      values ('DEMO-0006', 'node_ghost', 'ocpp1.6', now(), now())`.execute(db());
    try {
      const silent = await commandViaB('DEMO-0006', 'reset', { type: 'Hard' });
      expect(silent.statusCode).toBe(504);
      expect(silent.json().error).toEqual({
        code: 'StationTimeout',
        message: 'node node_ghost, which holds station DEMO-0006, did not acknowledge the command (is it down?)',
      });
    } finally {
      await db().deleteFrom('station_presence').where('node_id', '=', 'node_ghost').execute();
      await db().deleteFrom('cluster_nodes').where('node_id', '=', 'node_ghost').execute();
    }
  });

  it('runs a periodic job once per period across both nodes', async () => {
    // Ten claims of one period at once, from two nodes: exactly one wins.
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => claimJobRun(db(), i % 2 ? 'node_a' : 'node_b', 'test-job', 60_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    // Both nodes tick the reconciliation every second; the runs recorded never come closer than one period
    // allows (0.9 s, less the moments between claim and start), which two nodes running in one period would.
    const runs = await eventually(async () => {
      const rows = await db().selectFrom('reconciliation_runs').select('started_at').orderBy('started_at').execute();
      return rows.length >= 4 ? rows : undefined;
    }, 20_000);
    const gapsMs = runs
      .slice(1)
      .map((r, i) => r.started_at.getTime() - (runs[i] as { started_at: Date }).started_at.getTime());
    expect(Math.min(...gapsMs)).toBeGreaterThanOrEqual(700);
    const job = await db()
      .selectFrom('cluster_jobs')
      .selectAll()
      .where('name', '=', 'reconcile')
      .executeTakeFirstOrThrow();
    expect(['node_a', 'node_b']).toContain(job.last_node_id);
  });

  it("shows a station on node A and its status change in node B's live event stream", async () => {
    const station = await connect(nodeA.ocppUrl, 'DEMO-0005');
    clients.push(station);
    const response = await fetch(`${nodeB.httpUrl}/api/v1/events`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    type Snapshot = { stations: { id: string; connected: boolean; state: string }[] };
    const nextSnapshot = async (): Promise<Snapshot> => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').find((line) => line.startsWith('data: '));
          if (event.includes('event: snapshot') && data) return JSON.parse(data.slice(6)) as Snapshot;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    };
    const stateOf = (snapshot: Snapshot) => snapshot.stations.find((s) => s.id === 'DEMO-0005');
    try {
      let seen = stateOf(await nextSnapshot());
      while (!seen?.connected) seen = stateOf(await nextSnapshot());
      expect(seen.state).toBe('available');
      await station.call('StatusNotification', {
        connectorId: 1,
        errorCode: 'GroundFailure',
        status: 'Faulted',
        timestamp: new Date().toISOString(),
      });
      while (seen?.state !== 'faulted') seen = stateOf(await nextSnapshot());
      expect(seen).toMatchObject({ id: 'DEMO-0005', connected: true, state: 'faulted' });
    } finally {
      await reader.cancel();
    }
  });

  it('bills a transaction started on node A exactly once after node A is killed and node B stops it', async () => {
    const onA = await connect(nodeA.ocppUrl, 'DEMO-0002');
    const start = await onA.call('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0002',
      meterStart: 500,
      timestamp: '2026-11-25T12:00:00.000Z',
    });
    expect(start.idTagInfo.status).toBe('Accepted');
    await onA.call('MeterValues', {
      connectorId: 1,
      transactionId: start.transactionId,
      meterValue: [
        {
          timestamp: '2026-11-25T12:30:00.000Z',
          sampledValue: [{ value: '5500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        },
      ],
    });
    await nodeA.kill();
    await onA.close({ force: true }).catch(() => undefined);

    // The station reconnects (through the load balancer) to node B, delivers its stop there, and retries it once
    // more because the first answer was lost: the session is billed once.
    const onB = await connect(nodeB.ocppUrl, 'DEMO-0002');
    clients.push(onB);
    await eventually(async () => ((await presence('DEMO-0002'))?.node_id === 'node_b' ? true : undefined));
    const stopRequest = {
      transactionId: start.transactionId,
      meterStop: 10_500,
      timestamp: '2026-11-25T13:00:00.000Z',
      idTag: 'DEMO0002',
      reason: 'EVDisconnected',
    };
    expect(await onB.call('StopTransaction', stopRequest)).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(await onB.call('StopTransaction', stopRequest)).toEqual({ idTagInfo: { status: 'Accepted' } });

    const sessions = await db()
      .selectFrom('sessions')
      .select(['id', 'status', 'billing_status', 'energy_wh'])
      .where('station_id', '=', 'DEMO-0002')
      .execute();
    expect(sessions).toHaveLength(1);
    const session = sessions[0] as (typeof sessions)[number];
    expect(session).toMatchObject({ status: 'Completed', billing_status: 'Billed', energy_wh: 10_000n });
    const cdrs = await db()
      .selectFrom('cdrs')
      .select(['total_excl_vat_minor', 'total_incl_vat_minor'])
      .where('session_id', '=', session.id)
      .execute();
    // 10 kWh x 0.49 + 0.35 session fee = 5.25 excl.; 5.831 -> 5.83 + 0.4165 -> 0.42 = 6.25 incl. 19% VAT.
    expect(cdrs).toEqual([{ total_excl_vat_minor: 525n, total_incl_vat_minor: 625n }]);
    const invoiced = await db()
      .selectFrom('invoice_sessions')
      .select(['invoice_id', 'total_excl_vat_minor'])
      .where('session_id', '=', session.id)
      .execute();
    expect(invoiced).toHaveLength(1);
    expect(invoiced[0]?.total_excl_vat_minor).toBe(525n);

    // Node A's stations are offline once its liveness expires (TTL 3 s): a command for DEMO-0003 fails at once.
    await eventually(() => (nodeB.cluster?.connectedStations().includes('DEMO-0003') ? undefined : true));
    const gone = await commandViaB('DEMO-0003', 'reset', { type: 'Hard' });
    expect([gone.statusCode, gone.json().error.code]).toEqual([409, 'StationNotConnected']);
    // And the station now on node B answers commands through node B itself.
    onB.handle('RemoteStopTransaction', () => ({ status: 'Accepted' }));
    const stop = await commandViaB('DEMO-0002', 'remote-stop', { transactionId: String(start.transactionId) });
    expect(stop.json()).toMatchObject({ ok: true, method: 'RemoteStopTransaction', accepted: true });
  });
});
