/** The HTTP API over a real socket: authentication, tenancy, pagination and the error table. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/api/api-keys.ts';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('HTTP API', () => {
  let server: RunningServer;
  let key: string;
  let otherKey: string;

  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  const json = (response: Response) => response.json() as Promise<any>;
  const get = (path: string, bearer?: string) =>
    fetch(`${server.httpUrl}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  beforeAll(async () => {
    server = await startTestServer();
    key = server.seeded!.adminApiKey;
    const db = server.database.db;
    const other = await db
      .insertInto('operators')
      .values({ name: 'Other CPO', country_code: 'NL', party_id: 'OTH', currency: 'EUR' })
      .returning('id')
      .executeTakeFirstOrThrow();
    otherKey = (await createApiKey(db, other.id, 'other', 'read-only')).key;
    const station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    for (let i = 0; i < 3; i++) {
      const started = await station.call<{ transactionId: number }>('StartTransaction', {
        connectorId: 1,
        idTag: 'DEMO0001',
        meterStart: i * 10_000,
        timestamp: `2026-11-2${i + 1}T10:00:00.000Z`,
      });
      await station.call('StopTransaction', {
        transactionId: started.transactionId,
        meterStop: i * 10_000 + 5_000,
        timestamp: `2026-11-2${i + 1}T11:00:00.000Z`,
      });
    }
    await station.close({ force: true });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves /health and /metrics without a key', async () => {
    const health = await get('/health');
    expect(health.status).toBe(200);
    expect(await json(health)).toMatchObject({ status: 'ok' });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/voltbill_sessions_started_total 3/);
    expect(text).toMatch(/voltbill_sessions_ended_total\{billing="Billed"\} 3/);
  });

  it('refuses requests without a valid key with the error body of the error table', async () => {
    const missing = await get('/api/v1/sessions');
    expect(missing.status).toBe(401);
    const body = await json(missing);
    expect(body.error.code).toBe('Unauthenticated');
    expect(body.requestId).toBe(missing.headers.get('x-request-id'));
    expect((await get('/api/v1/sessions', 'vb_not-a-real-key')).status).toBe(401);
  });

  it('lists sessions newest first with keyset pagination, and CDRs with totals as decimal strings', async () => {
    const first = await json(await get('/api/v1/sessions?limit=2', key));
    expect(first.data.map((s: { startedAt: string }) => s.startedAt)).toEqual([
      '2026-11-23T10:00:00.000Z',
      '2026-11-22T10:00:00.000Z',
    ]);
    const second = await json(await get(`/api/v1/sessions?limit=2&cursor=${first.nextCursor}`, key));
    expect(second.data.map((s: { startedAt: string }) => s.startedAt)).toEqual(['2026-11-21T10:00:00.000Z']);
    expect(second.nextCursor).toBeNull();
    expect(second.data[0]).toMatchObject({
      stationId: 'DEMO-0001',
      energyWh: 5000,
      status: 'Completed',
      billingStatus: 'Billed',
    });

    const cdrs = await json(await get('/api/v1/cdrs', key));
    expect(cdrs.data).toHaveLength(3);
    // 5 kWh x 0.49 + 0.35 = 2.80 excl; 2.9155 -> 2.92 + 0.4165 -> 0.42 = 3.34 incl.
    expect(cdrs.data[0].totalCost).toEqual({ exclVat: '2.80', inclVat: '3.34' });
    const one = await json(await get(`/api/v1/cdrs/${cdrs.data[0].id}`, key));
    expect(one.ocpi.currency).toBe('EUR');
  });

  it('pages CDRs, invoices and ledger transfers one by one through their cursors, each row once, in order', async () => {
    for (const list of ['/api/v1/cdrs', '/api/v1/invoices', '/api/v1/ledger/transfers']) {
      const all = (await json(await get(`${list}?limit=500`, key))).data.map((row: { id: string }) => row.id);
      expect(all.length).toBeGreaterThanOrEqual(3);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await json(await get(`${list}?limit=1${cursor ? `&cursor=${cursor}` : ''}`, key));
        paged.push(...page.data.map((row: { id: string }) => row.id));
        cursor = page.nextCursor;
      } while (cursor !== null && paged.length <= all.length);
      expect(paged).toEqual(all);
    }
  });

  it('filters by station and time range and validates the query', async () => {
    const ranged = await json(await get('/api/v1/sessions?from=2026-11-22T00:00:00Z&to=2026-11-23T00:00:00Z', key));
    expect(ranged.data).toHaveLength(1);
    const none = await json(await get('/api/v1/sessions?stationId=DEMO-0002', key));
    expect(none.data).toEqual([]);
    const bad = await get('/api/v1/sessions?limit=100000', key);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('InvalidRequest');
  });

  it('never shows one operator the data of another', async () => {
    const sessions = await json(await get('/api/v1/sessions', otherKey));
    expect(sessions.data).toEqual([]);
    const stations = await json(await get('/api/v1/stations', otherKey));
    expect(stations.data).toEqual([]);
    const mine = await json(await get('/api/v1/sessions', key));
    const foreign = await get(`/api/v1/sessions/${mine.data[0].id}`, otherKey);
    expect(foreign.status).toBe(404);
  });
});
