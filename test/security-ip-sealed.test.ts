/**
 * Callers' IP addresses are personal data: the audit log and the sign-in records store them sealed, the chain still
 * verifies without a key, and an admin reads the address in clear through the API. Real HTTP, real database
 * (PGlite and PostgreSQL).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();
/** Every test call comes from the loopback address. */
const CALLER_IP = '127.0.0.1';

describe.skipIf(skip)('caller IP addresses sealed at rest', () => {
  let server: RunningServer;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  const call = async (method: string, path: string, bearer?: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers: {
        ...(bearer !== undefined && { authorization: `Bearer ${bearer}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    server = await startTestServer();
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it('stores the address sealed in audit_log and auth_sessions, and shows it to admins in clear', async () => {
    const admin = server.seeded!.adminApiKey;
    const created = await call('POST', '/api/v1/api-keys', admin, { name: 'ip-check', role: 'read-only' });
    expect(created.status).toBe(201);
    const { email, password } = server.seeded!.adminUser!;
    expect((await call('POST', '/api/v1/auth/sign-in', undefined, { email, password })).status).toBe(200);

    const audit = await sql<{ action: string; ip: string | null }>`select action, ip from audit_log`.execute(
      server.database.db,
    );
    const withIp = audit.rows.filter((row) => row.ip !== null);
    expect(withIp.map((row) => row.action)).toContain('api-key.create');
    for (const row of withIp) {
      expect(row.ip).not.toContain(CALLER_IP);
      expect(row.ip!.length).toBeGreaterThan(40);
    }
    const signIns = await sql<{ ip: string | null }>`select ip from auth_sessions`.execute(server.database.db);
    expect(signIns.rows.length).toBeGreaterThan(0);
    for (const row of signIns.rows) expect(row.ip).not.toContain(CALLER_IP);

    const listed = await call('GET', '/api/v1/audit?limit=100', admin);
    expect(listed.status).toBe(200);
    const entry = (listed.body.data as { action: string; ip: string | null }[]).find(
      (e) => e.action === 'api-key.create',
    );
    expect(entry?.ip).toBe(CALLER_IP);
    const report = await verifyAuditChain(server.database.db);
    expect({ ok: report.ok, problems: report.problems }).toEqual({ ok: true, problems: [] });
  });
});
