/**
 * The account and security commands against a real database: users create, api-keys create/list/revoke,
 * keys rotate, and audit verify catching a tampered row (exit 1).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateApiKey } from '../src/api/api-keys.ts';
import type { CommandIo } from '../src/cli.ts';
import { runApiKeysCommand } from '../src/commands/api-keys-command.ts';
import { runAuditCommand } from '../src/commands/audit-command.ts';
import { runKeysCommand } from '../src/commands/keys-command.ts';
import { runUsersCommand } from '../src/commands/users-command.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createTestDatabaseUrl, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('account and security commands', () => {
  let dir: string;
  let env: Record<string, string>;

  const run = async (command: typeof runUsersCommand, argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: CommandIo = {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      isTTY: false,
    };
    const code = await command(argv, io, env);
    return { code, stdout, stderr };
  };
  const open = () =>
    openDatabase(
      env.DATABASE_URL
        ? { kind: 'postgres', url: env.DATABASE_URL }
        : { kind: 'pglite', dataDir: env.VOLTBILL_DATA_DIR!, command: 'test' },
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vb-cli-'));
    const url = await createTestDatabaseUrl();
    env = {
      VOLTBILL_DATA_DIR: path.join(dir, 'data'),
      VOLTBILL_MASTER_KEY_FILE: path.join(dir, 'master-key.json'),
      ...(url !== 'memory' && { DATABASE_URL: url }),
    };
    const handle = await open();
    await migrateToLatest(handle.db);
    await handle.db
      .insertInto('operators')
      .values({ name: 'CLI CPO', country_code: 'DE', party_id: 'CLI', currency: 'EUR' })
      .execute();
    await handle.close();
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it('creates a user with a generated password shown once, and refuses bad input with exit 2', async () => {
    const created = await run(runUsersCommand, [
      'create',
      '--email',
      'ops@example.com',
      '--role',
      'admin',
      '--name',
      'Ops',
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /^created user [0-9a-f-]{36} \(admin\) ops@example\.com\npassword \(shown once\): [A-Za-z0-9_-]{20}\n$/,
    );
    const listed = await run(runUsersCommand, ['list', '--json']);
    expect(JSON.parse(listed.stdout).map((u: { email: string; role: string }) => [u.email, u.role])).toEqual([
      ['ops@example.com', 'admin'],
    ]);
    expect((await run(runUsersCommand, ['create', '--email', 'ops@example.com', '--role', 'admin'])).code).toBe(1);
    expect((await run(runUsersCommand, ['create', '--email', 'x@example.com', '--role', 'root'])).code).toBe(2);
    expect((await run(runUsersCommand, ['create', '--role', 'admin'])).code).toBe(2);
  }, 180_000);

  it('creates, lists and revokes API keys; the key is printed once and never listed', async () => {
    const created = await run(runApiKeysCommand, ['create', '--name', 'billing export', '--role', 'finance', '--json']);
    expect(created.code).toBe(0);
    const { id, key, prefix } = JSON.parse(created.stdout);
    expect(key).toMatch(/^vb_/);
    const handle = await open();
    try {
      expect(await authenticateApiKey(handle.db, key, new Date())).toMatchObject({ role: 'finance', keyId: id });
    } finally {
      await handle.close();
    }
    const list = await run(runApiKeysCommand, ['list']);
    expect(list.stdout).toContain(prefix);
    expect(list.stdout).toContain('last used 20');
    expect(list.stdout).not.toContain(key);
    expect((await run(runApiKeysCommand, ['revoke', id])).code).toBe(0);
    expect((await run(runApiKeysCommand, ['revoke', id])).code).toBe(1);
    const after = await run(runApiKeysCommand, ['list', '--json']);
    expect(JSON.parse(after.stdout)[0].revokedAt).not.toBeNull();
  }, 180_000);

  it('rotates keys: the master key changes, data keys are re-wrapped, users stay readable', async () => {
    const rotated = await run(runKeysCommand, ['rotate', '--json']);
    expect(rotated.code).toBe(0);
    const report = JSON.parse(rotated.stdout);
    expect(report).toMatchObject({ rewrapped: 2, alreadyCurrent: 0, newDataKeyId: null });
    expect(report.prunedMasterKeys).toHaveLength(1);
    const again = JSON.parse((await run(runKeysCommand, ['rotate', '--json', '--new-data-key'])).stdout);
    expect(again).toMatchObject({ rewrapped: 2, alreadyCurrent: 0 });
    const listed = await run(runUsersCommand, ['list']);
    expect(listed.stdout).toContain('ops@example.com');
  }, 180_000);

  it('audit verify passes on the intact log and exits 1 on an edited or deleted entry', async () => {
    const intact = await run(runAuditCommand, ['verify', '--json']);
    expect(intact.code).toBe(0);
    const report = JSON.parse(intact.stdout);
    // 3 entries plus one `keys.rotate` per rotation this file ran before (two).
    expect(report).toMatchObject({ ok: true, operators: 1, entries: 5, problems: [] });
    const handle = await open();
    try {
      await sql`alter table audit_log disable trigger audit_log_append_only`.execute(handle.db);
      await sql`update audit_log set actor = 'someone-else' where seq = 2`.execute(handle.db);
      await sql`alter table audit_log enable trigger audit_log_append_only`.execute(handle.db);
    } finally {
      await handle.close();
    }
    const tampered = await run(runAuditCommand, ['verify']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/BROKEN/);
    expect(tampered.stdout).toMatch(/hash-mismatch at operator [0-9a-f-]{36} seq 2/);
    expect((await run(runAuditCommand, ['check'])).code).toBe(2);
  }, 180_000);
});
