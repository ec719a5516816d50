import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/verify-audit-chain.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../db/open-database.ts';
import { verifyPassword } from '../ocpp/security/password-hash.ts';
import { seedDemo } from '../seed/seed-demo.ts';
import { runCertsCommand } from './certs-command.ts';
import { runStationsCommand } from './stations-command.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), isTTY: false },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('voltbill stations', () => {
  let database: DatabaseHandle;
  // The command closes the handle it opened; the test keeps one embedded database open across commands.
  const deps = () => ({ open: async () => ({ ...database, close: async () => {} }) });

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory', command: 'test' });
    await migrateToLatest(database.db);
    await seedDemo(database.db, 'half-up');
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('adds a profile-1 station with a generated password, stored only as a scrypt hash', async () => {
    const c = capture();
    expect(await runStationsCommand(['add', '--id', 'CLI-1', '--json'], c.io, deps())).toBe(0);
    const added = JSON.parse(c.out()) as { id: string; securityProfile: number; password: string };
    expect(added).toMatchObject({ id: 'CLI-1', securityProfile: 1 });
    expect(added.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const row = await database.db
      .selectFrom('stations')
      .selectAll()
      .where('id', '=', 'CLI-1')
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).not.toContain(added.password);
    expect(await verifyPassword(added.password, row.password_hash as string)).toBe(true);
    expect(row.registration_status).toBe('Accepted');
    const evses = await database.db.selectFrom('evses').select('evse_uid').where('station_id', '=', 'CLI-1').execute();
    expect(evses).toEqual([{ evse_uid: 'DE*VBL*ECLI-1*1' }]);
  });

  it('refuses a short password, a bad profile, and a duplicate id', async () => {
    const short = capture();
    expect(await runStationsCommand(['add', '--id', 'CLI-2', '--password', 'short'], short.io, deps())).toBe(2);
    expect(short.err()).toContain('16 to 40 characters');
    expect(await runStationsCommand(['add', '--id', 'CLI-2', '--security-profile', '4'], capture().io, deps())).toBe(2);
    const dup = capture();
    expect(await runStationsCommand(['add', '--id', 'CLI-1'], dup.io, deps())).toBe(1);
    expect(dup.err()).toContain('exists');
  });

  it('lists, shows, rotates and removes', async () => {
    expect(
      await runStationsCommand(
        ['add', '--id', 'CLI-3', '--security-profile', '3', '--evses', '2'],
        capture().io,
        deps(),
      ),
    ).toBe(0);
    const list = capture();
    expect(await runStationsCommand(['list', '--json'], list.io, deps())).toBe(0);
    const stations = JSON.parse(list.out()) as { id: string; securityProfile: number; hasPassword: boolean }[];
    expect(stations.find((s) => s.id === 'CLI-3')).toMatchObject({ securityProfile: 3, hasPassword: false });
    expect(stations.filter((s) => s.id.startsWith('DEMO-'))).toHaveLength(10);
    const show = capture();
    expect(await runStationsCommand(['show', 'CLI-1', '--json'], show.io, deps())).toBe(0);
    expect(JSON.parse(show.out())).toMatchObject({ id: 'CLI-1', securityProfile: 1, hasPassword: true });
    expect(await runStationsCommand(['show', 'NOPE'], capture().io, deps())).toBe(1);
    const rotate = capture();
    expect(
      await runStationsCommand(['set-password', 'CLI-1', '--password', 'a-brand-new-password-42'], rotate.io, deps()),
    ).toBe(0);
    const row = await database.db
      .selectFrom('stations')
      .select('password_hash')
      .where('id', '=', 'CLI-1')
      .executeTakeFirstOrThrow();
    expect(await verifyPassword('a-brand-new-password-42', row.password_hash as string)).toBe(true);
    expect(await runStationsCommand(['remove', 'CLI-3'], capture().io, deps())).toBe(0);
    expect(await database.db.selectFrom('evses').select('evse_id').where('station_id', '=', 'CLI-3').execute()).toEqual(
      [],
    );
    expect(await runStationsCommand(['remove', 'CLI-3'], capture().io, deps())).toBe(1);
  });

  it('audits add, set-password and remove with actor cli in the same transaction, never the password', async () => {
    const password = 'Cli-Audit-Password-0042';
    const newPassword = 'Cli-Audit-Password-0043';
    expect(await runStationsCommand(['add', '--id', 'CLI-AUD', '--password', password], capture().io, deps())).toBe(0);
    expect(await runStationsCommand(['set-password', 'CLI-AUD', '--password', newPassword], capture().io, deps())).toBe(
      0,
    );
    const generated = capture();
    expect(await runStationsCommand(['set-password', 'CLI-AUD', '--security-profile', '2'], generated.io, deps())).toBe(
      0,
    );
    const shownOnce = generated.out().split('\n')[1]?.trim() as string;
    expect(await runStationsCommand(['remove', 'CLI-AUD'], capture().io, deps())).toBe(0);
    // A refused change writes neither the station nor an entry.
    expect(await runStationsCommand(['add', '--id', 'CLI-AUD2', '--password', 'short'], capture().io, deps())).toBe(2);
    expect(await runStationsCommand(['remove', 'CLI-NONE'], capture().io, deps())).toBe(1);

    const entries = await database.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'subject_type', 'subject_id', 'before', 'after'])
      .where('subject_id', 'in', ['CLI-AUD', 'CLI-AUD2', 'CLI-NONE'])
      .orderBy('seq')
      .execute();
    const station = { id: 'CLI-AUD', registrationStatus: 'Accepted', hasPassword: true };
    expect(entries.map((e) => [e.actor, e.action, e.subject_type, e.subject_id])).toEqual([
      ['cli', 'station.create', 'station', 'CLI-AUD'],
      ['cli', 'station.set-password', 'station', 'CLI-AUD'],
      ['cli', 'station.set-password', 'station', 'CLI-AUD'],
      ['cli', 'station.delete', 'station', 'CLI-AUD'],
    ]);
    expect(entries[0]?.after).toMatchObject({ ...station, securityProfile: 1, evseCount: 1, passwordGenerated: false });
    expect(entries[1]?.after).toMatchObject({ ...station, securityProfile: 1, passwordGenerated: false });
    expect(entries[2]?.before).toMatchObject({ ...station, securityProfile: 1 });
    expect(entries[2]?.after).toMatchObject({ ...station, securityProfile: 2, passwordGenerated: true });
    expect(entries[3]?.before).toMatchObject({ ...station, securityProfile: 2 });
    expect(entries[3]?.after).toBe(null);
    const text = JSON.stringify(entries);
    expect(shownOnce).toMatch(/^[A-Za-z0-9_-]{24}$/);
    for (const secret of [password, newPassword, shownOnce, 'scrypt$']) expect(text).not.toContain(secret);
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
  });

  it('sends a remote command through the API of a running node', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ error: { code: 'StationNotConnected' } }), { status: 409 });
    }) as unknown as typeof fetch;
    const c = capture();
    const code = await runStationsCommand(
      ['command', 'DEMO-0001', 'reset', '--params', '{"type":"Hard"}', '--api-url', 'http://h:8080/', '--api-key', 'k'],
      c.io,
      { fetch: fakeFetch },
    );
    expect(code).toBe(1);
    expect(calls[0]?.url).toBe('http://h:8080/api/v1/stations/DEMO-0001/commands/reset');
    expect(calls[0]?.init.body).toBe('{"type":"Hard"}');
    expect(c.err()).toContain('HTTP 409');
  });
});

describe('voltbill certs', () => {
  it('writes a CA, a server certificate for the hosts and station client certificates that chain to the CA', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'voltbill-certs-'));
    try {
      const c = capture();
      const code = await runCertsCommand(['--out', dir, '--station', 'ST-9', '--days', '30'], c.io, {
        now: () => new Date('2026-11-25T00:00:00Z'),
      });
      expect(code).toBe(0);
      const ca = new X509Certificate(await readFile(path.join(dir, 'ca.pem')));
      const server = new X509Certificate(await readFile(path.join(dir, 'server.pem')));
      const station = new X509Certificate(await readFile(path.join(dir, 'station-ST-9.pem')));
      expect(ca.ca).toBe(true);
      expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
      expect(station.checkIssued(ca) && station.verify(ca.publicKey)).toBe(true);
      expect(server.checkHost('localhost')).toBe('localhost');
      expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(station.subject).toContain('CN=ST-9');
      expect(new Date(station.validTo).toISOString()).toBe('2026-12-25T00:00:00.000Z');
      expect(c.out()).toContain('VOLTBILL_OCPP_TLS_PORT=9443');
      // A second run reuses the CA, so certificates issued earlier stay valid.
      expect(await runCertsCommand(['--out', dir, '--station', 'ST-10'], capture().io)).toBe(0);
      const again = new X509Certificate(await readFile(path.join(dir, 'ca.pem')));
      expect(again.fingerprint256).toBe(ca.fingerprint256);
      expect(await runCertsCommand(['--station', 'bad id!'], capture().io)).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
