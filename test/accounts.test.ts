/**
 * Accounts and sign-in over a real socket: tokens, refresh rotation with reuse detection, sign-out, lockout,
 * disabled users, API keys shown once with last-used time and revocation, all audited.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = any;

const skip = postgresSkipReason();

describe.skipIf(skip)('accounts and sign-in', () => {
  let server: RunningServer;
  let adminKey: string;
  const call = async (
    method: string,
    path: string,
    bearer?: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const headers: Record<string, string> = {};
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const signIn = (email: string, password: string) =>
    call('POST', '/api/v1/auth/sign-in', undefined, { email, password });

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_ACCESS_TOKEN_TTL_S: '300' });
    adminKey = server.seeded!.adminApiKey;
  }, 300_000);
  afterAll(async () => {
    await server?.close();
  }, 120_000);

  it('signs in with email and password and accepts the access token as Bearer', async () => {
    const { email, password } = server.seeded!.adminUser!;
    const result = await signIn(email.toUpperCase(), password);
    expect(result.status).toBe(200);
    expect(result.body.expiresInS).toBe(300);
    expect(result.body.tokenType).toBe('Bearer');
    expect(result.body.refreshToken).toMatch(/^vbr_[A-Za-z0-9_-]{43}$/);
    const me = await call('GET', '/api/v1/auth/me', result.body.accessToken);
    expect(me.body).toMatchObject({
      kind: 'user',
      role: 'admin',
      operatorId: server.seeded!.operatorId,
      customerId: null,
    });
    const wrong = await signIn(email, 'not the password');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('InvalidCredentials');
    const unknown = await signIn('nobody@example.com', 'whatever-password');
    expect(unknown.body.error).toEqual(wrong.body.error);
  }, 120_000);

  it('rotates refresh tokens, and a reused refresh token revokes the whole sign-in', async () => {
    const { email, password } = server.seeded!.adminUser!;
    const first = (await signIn(email, password)).body;
    const second = await call('POST', '/api/v1/auth/refresh', undefined, { refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await call('GET', '/api/v1/auth/me', second.body.accessToken)).status).toBe(200);
    // The first refresh token again: theft assumed; both the old and the new tokens die.
    const replay = await call('POST', '/api/v1/auth/refresh', undefined, { refreshToken: first.refreshToken });
    expect(replay.status).toBe(401);
    expect(
      (await call('POST', '/api/v1/auth/refresh', undefined, { refreshToken: second.body.refreshToken })).status,
    ).toBe(401);
    expect((await call('GET', '/api/v1/auth/me', second.body.accessToken)).status).toBe(401);
    const audit = await call('GET', '/api/v1/audit?action=auth-session.revoke', adminKey);
    expect(audit.body.data[0].after).toEqual({ reason: 'refresh-token-reuse' });
  }, 120_000);

  it('sign-out revokes the access token at once', async () => {
    const { email, password } = server.seeded!.adminUser!;
    const tokens = (await signIn(email, password)).body;
    expect((await call('POST', '/api/v1/auth/sign-out', tokens.accessToken)).status).toBe(204);
    const after = await call('GET', '/api/v1/auth/me', tokens.accessToken);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('Unauthenticated');
    expect((await call('POST', '/api/v1/auth/refresh', undefined, { refreshToken: tokens.refreshToken })).status).toBe(
      401,
    );
    // A forged token (signature of another key) is refused.
    const [header, payload] = tokens.accessToken.split('.');
    expect((await call('GET', '/api/v1/auth/me', `${header}.${payload}.${'A'.repeat(43)}`)).status).toBe(401);
  }, 120_000);

  it('locks an account after 5 wrong passwords, and a disabled user cannot sign in or use old tokens', async () => {
    const created = await call('POST', '/api/v1/users', adminKey, {
      email: 'finance@example.com',
      password: 'finance-password-1',
      role: 'finance',
      name: 'Fin',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: 'finance@example.com',
      name: 'Fin',
      role: 'finance',
      customerId: null,
    });
    const tokens = (await signIn('finance@example.com', 'finance-password-1')).body;
    expect((await call('GET', '/api/v1/tariffs', tokens.accessToken)).status).toBe(200);
    expect((await call('POST', '/api/v1/api-keys', tokens.accessToken, { name: 'x', role: 'admin' })).status).toBe(403);
    for (let i = 0; i < 5; i++) expect((await signIn('finance@example.com', `wrong-${i}`)).status).toBe(401);
    const locked = await signIn('finance@example.com', 'finance-password-1');
    expect(locked.status).toBe(401);
    expect(locked.body.error.message).toMatch(/too many wrong passwords/);
    const disabled = await call('POST', `/api/v1/users/${created.body.id}/disable`, adminKey);
    expect(disabled.status).toBe(200);
    expect((await call('GET', '/api/v1/tariffs', tokens.accessToken)).status).toBe(401);
    const dup = await call('POST', '/api/v1/users', adminKey, {
      email: 'FINANCE@example.com',
      password: 'finance-password-2',
      role: 'support',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('Conflict');
    const short = await call('POST', '/api/v1/users', adminKey, {
      email: 'short@example.com',
      password: 'short',
      role: 'support',
    });
    expect(short.status).toBe(400);
  }, 120_000);

  it('creates API keys shown once, lists them with prefix and last use, and revokes them at once', async () => {
    const created = await call('POST', '/api/v1/api-keys', adminKey, { name: 'partner', role: 'read-only' });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^vb_[A-Za-z0-9_-]{43}$/);
    expect(created.body.prefix).toBe(created.body.key.slice(0, 9));
    expect((await call('GET', '/api/v1/sessions', created.body.key)).status).toBe(200);
    const list = (await call('GET', '/api/v1/api-keys', adminKey)).body.data;
    const listed = list.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toMatchObject({ name: 'partner', role: 'read-only', prefix: created.body.prefix, revokedAt: null });
    expect(listed.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(list)).not.toContain(created.body.key);
    expect((await call('DELETE', `/api/v1/api-keys/${created.body.id}`, adminKey)).status).toBe(204);
    expect((await call('GET', '/api/v1/sessions', created.body.key)).status).toBe(401);
    expect((await call('DELETE', `/api/v1/api-keys/${created.body.id}`, adminKey)).status).toBe(404);
    const stored = await sql<{ key_hash: string }>`select key_hash from api_keys where id = ${created.body.id}`.execute(
      server.database.db,
    );
    expect(stored.rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);

  it('audits users, keys, sign-ins and tariff changes with actor, ip and request id, and the chain verifies', async () => {
    const retire = await fetch(`${server.httpUrl}/api/v1/tariffs/DEMO-STANDARD/retire`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'x-request-id': 'req-retire-1' },
    });
    expect(retire.status).toBe(200);
    const entries = (await call('GET', '/api/v1/audit?limit=500', adminKey)).body.data as {
      action: string;
      actor: string;
      ip: string;
      requestId: string;
      after: unknown;
      before: unknown;
    }[];
    const actions = new Set(entries.map((e) => e.action));
    for (const action of [
      'user.create',
      'user.sign-in',
      'user.sign-out',
      'user.lock',
      'user.disable',
      'api-key.create',
      'api-key.revoke',
      'auth-session.revoke',
      'tariff.retire',
    ]) {
      expect(actions.has(action), action).toBe(true);
    }
    const retired = entries.find((e) => e.action === 'tariff.retire')!;
    expect(retired).toMatchObject({ requestId: 'req-retire-1', ip: '127.0.0.1', before: { retiredAt: null } });
    expect(retired.actor).toMatch(/^api-key:/);
    // No personal data in the audit log: the users' emails appear nowhere in it.
    expect(JSON.stringify(entries)).not.toContain('finance@example.com');
    const verify = await call('GET', '/api/v1/audit/verify', adminKey);
    expect(verify.body).toMatchObject({ ok: true, problems: [] });
    expect(Number(verify.body.entries)).toBe(entries.length);
  }, 120_000);
});
