/**
 * Rate limits shared by several nodes on one database: two Fastify apps (two buildApp instances, as two
 * `voltbill serve` nodes would build them) on one PostgreSQL count one per-key and one per-IP limit between them.
 * The counters hold HMACs, never addresses or keys, and finished windows are pruned.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseRateCounter } from '../src/api/auth/rate-counter.ts';
import { DEFAULT_SECURITY, type SecuritySettings } from '../src/api/auth/register-security.ts';
import { buildApp } from '../src/api/build-app.ts';
import { createFieldCipher, type FieldCipher } from '../src/crypto/field-cipher.ts';
import { parseMasterKeyEnv } from '../src/crypto/master-keyring.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { createMetrics } from '../src/metrics.ts';
import { seedDemo } from '../src/seed/seed-demo.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('rate limits shared through the database', () => {
  let handle: DatabaseHandle;
  let cipher: FieldCipher;
  let adminKey: string;
  const apps: FastifyInstance[] = [];

  /** One node: its own Fastify app (own memory), the shared database, a clock fixed inside one window. */
  const node = async (at: string, security: Partial<SecuritySettings>) => {
    const app = await buildApp({
      db: handle.db,
      clock: fixedClock(new Date(at)),
      logger: pino({ level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      connectedStations: () => [],
      cipher,
      security: { ...DEFAULT_SECURITY, ...security },
    });
    apps.push(app);
    return app;
  };
  const me = (app: FastifyInstance, key?: string) =>
    app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: key ? { authorization: `Bearer ${key}` } : {} });

  beforeAll(async () => {
    handle = await openTestDatabase();
    const keyring = parseMasterKeyEnv(`mk-test:${randomBytes(32).toString('base64')}`);
    cipher = await createFieldCipher(handle.db, async () => keyring);
    adminKey = (await seedDemo(handle.db, 'half-up', { cipher, now: new Date() }))!.adminApiKey;
  }, 120_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    await handle?.close();
  }, 60_000);

  it('counts one per-key limit across two nodes', async () => {
    const settings = { rateLimitStore: 'database', rateLimitPerKey: 5, rateLimitPerIp: 1000 } as const;
    const a = await node('2026-11-26T10:00:10.000Z', settings);
    const b = await node('2026-11-26T10:00:20.000Z', settings);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await me(i % 2 === 0 ? a : b, adminKey)).statusCode);
    // Each node saw at most 4 requests (under 5), yet the 6th and 7th of the key are refused.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const refused = await me(a, adminKey);
    expect(refused.json().error.code).toBe('RateLimited');
    expect(refused.headers['retry-after']).toBe('50');
  });

  it('counts one per-IP limit across two nodes, anonymous requests included', async () => {
    const settings = { rateLimitStore: 'database', rateLimitPerKey: 1000, rateLimitPerIp: 6 } as const;
    const a = await node('2026-11-26T11:00:05.000Z', settings);
    const b = await node('2026-11-26T11:00:05.000Z', settings);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await me(i % 2 === 0 ? a : b)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
    expect((await me(b)).json().error.code).toBe('RateLimited');
  });

  it('counts per node in memory when told to (embedded database: one node)', async () => {
    const settings = { rateLimitStore: 'memory', rateLimitPerKey: 3, rateLimitPerIp: 1000 } as const;
    const a = await node('2026-11-26T12:00:05.000Z', settings);
    const b = await node('2026-11-26T12:00:05.000Z', settings);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await me(i % 2 === 0 ? a : b, adminKey)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await me(a, adminKey)).statusCode).toBe(429);
  });

  it('stores HMAC buckets only and prunes finished windows', async () => {
    const rows = await handle.db.selectFrom('rate_limit_windows').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.bucket).toMatch(/^[0-9a-f]{64}$/);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain('127.0.0.1');
    expect(dump).not.toContain(adminKey);

    const counter = createDatabaseRateCounter(handle.db, {
      bucketOf: (key) => cipher.blindIndex('rate-limit', key),
      pruneEveryMs: 0,
    });
    const first = await counter.hit('prune-me', 60_000, new Date('2026-11-26T13:00:30.000Z'));
    expect(first).toEqual({ hits: 1, resetInMs: 30_000 });
    expect(await counter.hit('prune-me', 60_000, new Date('2026-11-26T13:00:59.000Z'))).toEqual({
      hits: 2,
      resetInMs: 1_000,
    });
    // Three windows later: everything older than two windows is deleted (in the background).
    // (A hit starts a prune unless one is still running, so hit until one has run after this window began.)
    const deadline = Date.now() + 10_000;
    let left = Number.POSITIVE_INFINITY;
    for (let second = 0; Date.now() < deadline && second < 60; second++) {
      await counter.hit('prune-me', 60_000, new Date(Date.UTC(2026, 10, 26, 13, 3, second)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = (await handle.db.selectFrom('rate_limit_windows').select('bucket').execute()).length;
      if (left === 1) break;
    }
    expect(left).toBe(1);
  });
});
