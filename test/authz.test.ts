/**
 * The authorization matrix: every route × every role × own tenant / other tenant × own data / another driver's
 * data, including guessed object ids across tenants and drivers. A real server, real sockets, real sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/api/api-keys.ts';
import { registeredRoutes } from '../src/api/auth/register-security.ts';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = any;

const skip = postgresSkipReason();

type Who = 'anon' | 'admin' | 'finance' | 'support' | 'readOnly' | 'adminUser' | 'driver1' | 'driver2' | 'otherAdmin';
// Authorized by what the caller holds, not by a principal: a provider's signed webhook, the ad-hoc QR token and
// the driver's per-payment secret (/pay/), the signed dunning pay link (/pay-invoice/; tested in
// test/payments-automation.test.ts).
const OPEN_BY_DESIGN = ['/api/v1/payments/webhooks/', '/api/v1/pay/', '/api/v1/pay-invoice/'];
const WHO: Who[] = ['anon', 'admin', 'finance', 'support', 'readOnly', 'adminUser', 'driver1', 'driver2', 'otherAdmin'];

describe.skipIf(skip)('authorization matrix', () => {
  let server: RunningServer;
  const bearer: Partial<Record<Who, string>> = {};
  const ids = {
    customer1: '',
    customer2: '',
    token1: '',
    token2: '',
    session1: '',
    session2: '',
    cdr1: '',
    fleet: '',
    apiKey: '',
    user: '',
  };
  const call = async (
    who: Who,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const headers: Record<string, string> = {};
    if (bearer[who]) headers.authorization = `Bearer ${bearer[who]}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const as = (who: Who) => ({
    get: (path: string) => call(who, 'GET', path),
    post: (path: string, body: unknown = {}) => call(who, 'POST', path, body),
    patch: (path: string, body: unknown) => call(who, 'PATCH', path, body),
  });

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_RATE_LIMIT_PER_IP: '100000', VOLTBILL_RATE_LIMIT_PER_KEY: '100000' });
    const db = server.database.db;
    const operatorId = server.seeded!.operatorId;
    bearer.admin = server.seeded!.adminApiKey;
    bearer.finance = (await createApiKey(db, operatorId, 'finance', 'finance')).key;
    bearer.support = (await createApiKey(db, operatorId, 'support', 'support')).key;
    bearer.readOnly = (await createApiKey(db, operatorId, 'ro', 'read-only')).key;
    const other = await db
      .insertInto('operators')
      .values({ name: 'Other CPO', country_code: 'NL', party_id: 'OTH', currency: 'EUR' })
      .returning('id')
      .executeTakeFirstOrThrow();
    bearer.otherAdmin = (await createApiKey(db, other.id, 'other admin', 'admin')).key;

    const signIn = async (email: string, password: string) => {
      const result = await as('anon').post('/api/v1/auth/sign-in', { email, password });
      expect(result.status).toBe(200);
      return result.body.accessToken as string;
    };
    bearer.adminUser = await signIn(server.seeded!.adminUser!.email, server.seeded!.adminUser!.password);

    const fleet = await as('admin').post('/api/v1/fleets', { name: 'ACME Logistics', billingEmail: 'ap@acme.example' });
    ids.fleet = fleet.body.id;
    const c1 = await as('support').post('/api/v1/customers', {
      name: 'Erika Mustermann',
      email: 'erika@example.com',
      fleetId: ids.fleet,
    });
    const c2 = await as('support').post('/api/v1/customers', { name: 'Max Muster', email: 'max@example.com' });
    expect([c1.status, c2.status]).toEqual([201, 201]);
    ids.customer1 = c1.body.id;
    ids.customer2 = c2.body.id;
    const t1 = await as('support').post('/api/v1/id-tokens', { uid: 'ERIKA001', customerId: ids.customer1 });
    const t2 = await as('support').post('/api/v1/id-tokens', { uid: 'MAX00001', customerId: ids.customer2 });
    ids.token1 = t1.body.id;
    ids.token2 = t2.body.id;
    for (const [n, customerId] of [
      [1, ids.customer1],
      [2, ids.customer2],
    ] as const) {
      const created = await as('admin').post('/api/v1/users', {
        email: `driver${n}@example.com`,
        password: `driver-${n}-password!`,
        role: 'driver',
        customerId,
      });
      expect(created.status).toBe(201);
      if (n === 1) ids.user = created.body.id;
    }
    bearer.driver1 = await signIn('driver1@example.com', 'driver-1-password!');
    bearer.driver2 = await signIn('Driver2@Example.com', 'driver-2-password!');

    const station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    for (const [i, idTag] of ['ERIKA001', 'MAX00001'].entries()) {
      const started = await station.call<{ transactionId: number }>('StartTransaction', {
        connectorId: 1,
        idTag,
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
    const sessions = (await as('admin').get('/api/v1/sessions')).body.data as { id: string; idTag: string }[];
    ids.session1 = sessions.find((s) => s.idTag === 'ERIKA001')!.id;
    ids.session2 = sessions.find((s) => s.idTag === 'MAX00001')!.id;
    const cdrs = (await as('admin').get('/api/v1/cdrs')).body.data as { id: string; sessionId: string }[];
    ids.cdr1 = cdrs.find((c) => c.sessionId === ids.session1)!.id;
    ids.apiKey = (await as('admin').get('/api/v1/api-keys')).body.data[0].id;
  }, 600_000);
  afterAll(async () => {
    await server?.close();
  }, 120_000);

  // Expected status per caller. s = staff (all four roles and the admin user); numbers override.
  type Row = {
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
    path: () => string;
    body?: () => unknown;
    expect: Record<Who, number>;
  };
  const staffRead = (driver: number, driver2: number, other: number): Record<Who, number> => ({
    anon: 401,
    admin: 200,
    finance: 200,
    support: 200,
    readOnly: 200,
    adminUser: 200,
    driver1: driver,
    driver2,
    otherAdmin: other,
  });
  const adminOnly = (ok: number, other: number): Record<Who, number> => ({
    anon: 401,
    admin: ok,
    finance: 403,
    support: 403,
    readOnly: 403,
    adminUser: ok,
    driver1: 403,
    driver2: 403,
    otherAdmin: other,
  });

  const rows: Row[] = [
    { method: 'GET', path: () => '/api/v1/stations', expect: staffRead(403, 403, 200) },
    { method: 'GET', path: () => '/api/v1/stations/DEMO-0001', expect: staffRead(403, 403, 404) },
    { method: 'GET', path: () => '/api/v1/sessions', expect: staffRead(200, 200, 200) },
    { method: 'GET', path: () => `/api/v1/sessions/${ids.session1}`, expect: staffRead(200, 404, 404) },
    { method: 'GET', path: () => '/api/v1/cdrs', expect: staffRead(200, 200, 200) },
    { method: 'GET', path: () => `/api/v1/cdrs/${ids.cdr1}`, expect: staffRead(200, 404, 404) },
    { method: 'GET', path: () => '/api/v1/tariffs', expect: staffRead(403, 403, 200) },
    { method: 'GET', path: () => '/api/v1/tariffs/DEMO-STANDARD', expect: staffRead(403, 403, 404) },
    { method: 'GET', path: () => '/api/v1/tariff-assignments', expect: staffRead(403, 403, 200) },
    { method: 'POST', path: () => '/api/v1/tariffs/DEMO-STANDARD/retire', expect: adminOnly(-1, 404) },
    { method: 'GET', path: () => '/api/v1/customers', expect: staffRead(403, 403, 200) },
    { method: 'GET', path: () => `/api/v1/customers/${ids.customer1}`, expect: staffRead(200, 404, 404) },
    {
      method: 'PATCH',
      path: () => `/api/v1/customers/${ids.customer1}`,
      body: () => ({ address: 'Hauptstraße 1, 10115 Berlin' }),
      expect: { ...adminOnly(200, 404), support: 200 },
    },
    { method: 'GET', path: () => '/api/v1/id-tokens', expect: staffRead(200, 200, 200) },
    { method: 'GET', path: () => `/api/v1/id-tokens/${ids.token1}`, expect: staffRead(200, 404, 404) },
    {
      method: 'PATCH',
      path: () => `/api/v1/id-tokens/${ids.token1}`,
      body: () => ({ label: 'Erika card' }),
      expect: { ...adminOnly(200, 404), support: 200 },
    },
    { method: 'GET', path: () => '/api/v1/fleets', expect: staffRead(403, 403, 200) },
    { method: 'GET', path: () => `/api/v1/fleets/${ids.fleet}`, expect: staffRead(403, 403, 404) },
    { method: 'GET', path: () => '/api/v1/users', expect: adminOnly(200, 200) },
    { method: 'GET', path: () => '/api/v1/api-keys', expect: adminOnly(200, 200) },
    { method: 'DELETE', path: () => `/api/v1/api-keys/${ids.apiKey}`, expect: adminOnly(-1, 404) },
    { method: 'POST', path: () => `/api/v1/users/${ids.user}/disable`, expect: adminOnly(-1, 404) },
    { method: 'GET', path: () => '/api/v1/audit', expect: adminOnly(200, 200) },
    { method: 'GET', path: () => '/api/v1/audit/verify', expect: adminOnly(200, 200) },
    { method: 'GET', path: () => '/api/v1/auth/me', expect: { ...staffRead(200, 200, 200) } },
  ];

  it.each(rows.map((row) => [`${row.method} ${row.path.toString().replace(/^\(\) => /, '')}`, row] as const))(
    '%s',
    async (_name, row) => {
      const seen: Partial<Record<Who, number>> = {};
      const wanted: Partial<Record<Who, number>> = {};
      for (const who of WHO) {
        // -1: a mutation the matrix does not perform with a permitted caller (it would change the fixture).
        if (row.expect[who] === -1) continue;
        const result = await call(who, row.method, row.path(), row.body?.());
        seen[who] = result.status;
        wanted[who] = row.expect[who];
      }
      expect(seen).toEqual(wanted);
    },
  );

  it('refuses anonymous callers on every non-public route, and drivers on every route not opened to them', async () => {
    const unexpected: string[] = [];
    const guessed = '00000000-0000-4000-8000-000000000000';
    for (const route of registeredRoutes(server.app)) {
      if (!route.url.startsWith('/api/v1/') || route.public || route.method === 'HEAD' || route.method === 'OPTIONS')
        continue;
      // Open by design, authenticated otherwise: provider webhooks (signature over the raw body) and the ad-hoc
      // payer's pages reached by the EVSE's QR code (no account; the payment provider authenticates the card).
      if (OPEN_BY_DESIGN.some((prefix) => route.url.startsWith(prefix))) continue;
      const path = route.url.replace(/:[A-Za-z0-9_]+/g, guessed);
      const anon = await call('anon', route.method, path);
      if (anon.status !== 401) unexpected.push(`anon ${route.method} ${route.url} → ${anon.status}`);
      if (!route.allowDrivers) {
        const driver = await call('driver1', route.method, path);
        if (driver.status !== 403) unexpected.push(`driver ${route.method} ${route.url} → ${driver.status}`);
      }
    }
    expect(unexpected).toEqual([]);
    expect(registeredRoutes(server.app).filter((r) => r.url.startsWith('/api/v1/')).length).toBeGreaterThanOrEqual(30);
  }, 120_000);

  it('shows a driver only their own sessions, CDRs, tokens and customer record', async () => {
    const sessions1 = (await as('driver1').get('/api/v1/sessions')).body.data.map((s: { id: string }) => s.id);
    const sessions2 = (await as('driver2').get('/api/v1/sessions')).body.data.map((s: { id: string }) => s.id);
    expect(sessions1).toEqual([ids.session1]);
    expect(sessions2).toEqual([ids.session2]);
    const cdrs1 = (await as('driver1').get('/api/v1/cdrs')).body.data.map((c: { sessionId: string }) => c.sessionId);
    expect(cdrs1).toEqual([ids.session1]);
    const tokens1 = (await as('driver1').get(`/api/v1/id-tokens?customerId=${ids.customer2}`)).body.data;
    expect(tokens1.map((t: { uid: string }) => t.uid)).toEqual(['ERIKA001']);
    const me = (await as('driver1').get(`/api/v1/customers/${ids.customer1}`)).body;
    expect(me).toMatchObject({ name: 'Erika Mustermann', email: 'erika@example.com', fleetId: ids.fleet });
    // Guessing another driver's ids: every one is "not found", never "forbidden" (no existence oracle).
    for (const path of [
      `/api/v1/sessions/${ids.session2}`,
      `/api/v1/customers/${ids.customer2}`,
      `/api/v1/id-tokens/${ids.token2}`,
    ]) {
      expect((await as('driver1').get(path)).status).toBe(404);
    }
  }, 120_000);

  it('shows another tenant nothing of this one, whatever ids it guesses', async () => {
    const lists = [
      '/api/v1/sessions',
      '/api/v1/cdrs',
      '/api/v1/customers',
      '/api/v1/id-tokens',
      '/api/v1/fleets',
      '/api/v1/stations',
      '/api/v1/tariffs',
      '/api/v1/users',
    ];
    for (const path of lists) {
      const result = await as('otherAdmin').get(path);
      expect({ path, status: result.status, data: result.body.data }).toEqual({ path, status: 200, data: [] });
    }
    const audit = await as('otherAdmin').get('/api/v1/audit');
    expect(audit.body.data).toEqual([]);
    const keys = await as('otherAdmin').get('/api/v1/api-keys');
    expect(keys.body.data.map((k: { name: string }) => k.name)).toEqual(['other admin']);
    // Naming another tenant's customer when issuing a token or a driver user is refused as not found.
    const token = await as('otherAdmin').post('/api/v1/id-tokens', { uid: 'STEAL001', customerId: ids.customer1 });
    expect(token.status).toBe(404);
    const user = await as('otherAdmin').post('/api/v1/users', {
      email: 'thief@example.com',
      password: 'long-enough-password',
      role: 'driver',
      customerId: ids.customer1,
    });
    expect(user.status).toBe(404);
  }, 120_000);

  it('lets no role but admin create users or keys, and support cannot create fleets', async () => {
    for (const who of ['finance', 'support', 'readOnly', 'driver1'] as const) {
      expect((await as(who).post('/api/v1/api-keys', { name: 'x', role: 'admin' })).status).toBe(403);
      expect(
        (
          await as(who).post('/api/v1/users', {
            email: 'x@example.com',
            password: 'long-enough-password',
            role: 'admin',
          })
        ).status,
      ).toBe(403);
    }
    expect((await as('support').post('/api/v1/fleets', { name: 'X' })).status).toBe(403);
    expect((await as('readOnly').post('/api/v1/customers', { name: 'X' })).status).toBe(403);
    expect((await as('finance').post('/api/v1/tariffs', { tariff: {} })).status).toBe(403);
  }, 120_000);
});
