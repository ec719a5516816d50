/**
 * Encryption at rest: personal data never appears in clear text in a raw dump of every table, ciphertexts are
 * authenticated and bound to their column, and master-key rotation re-wraps data keys while the server runs.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFieldCipher, DecryptionFailed } from '../src/crypto/field-cipher.ts';
import { addKeyToFile, loadKeyFile, pruneKeyFile } from '../src/crypto/master-keyring.ts';
import { masterKeysInUse, rotateKeys } from '../src/crypto/rotate-keys.ts';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

const PII = {
  name: 'Wilhelmine Zwetschgenbaum',
  email: 'wilhelmine.zwetschgenbaum@example.org',
  address: 'Zwetschgenallee 77, 04109 Leipzig',
  providerCustomerId: 'cus_SecretProviderId123',
  userName: 'Kunigunde Quarkstrudel',
  userEmail: 'kunigunde.quarkstrudel@example.org',
  fleetEmail: 'rechnungen@quarkstrudel-logistik.example',
};

describe.skipIf(skip)('encryption at rest', () => {
  let server: RunningServer;
  let keyDir: string;
  let keyFile: string;
  let adminKey: string;
  let customerId: string;

  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  const call = async (method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${server.httpUrl}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(tmpdir(), 'vb-keys-'));
    keyFile = path.join(keyDir, 'master-key.json');
    server = await startTestServer({ VOLTBILL_MASTER_KEY_FILE: keyFile });
    adminKey = server.seeded!.adminApiKey;
    const fleet = await call('POST', '/api/v1/fleets', { name: 'Quarkstrudel Logistik', billingEmail: PII.fleetEmail });
    const customer = await call('POST', '/api/v1/customers', {
      name: PII.name,
      email: PII.email,
      address: PII.address,
      providerCustomerId: PII.providerCustomerId,
      fleetId: fleet.body.id,
    });
    expect(customer.status).toBe(201);
    customerId = customer.body.id;
    const user = await call('POST', '/api/v1/users', {
      email: PII.userEmail,
      name: PII.userName,
      password: 'a-long-password-1',
      role: 'admin',
    });
    expect(user.status).toBe(201);
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    await rm(keyDir, { recursive: true, force: true });
  }, 120_000);

  const rawDump = async (): Promise<string> => {
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(
      server.database.db,
    );
    const parts: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await sql<{
        row: string;
      }>`select row_to_json(t)::text as row from ${sql.table(table_name)} t`.execute(server.database.db);
      parts.push(...rows.rows.map((r) => r.row));
    }
    return parts.join('\n');
  };

  it('keeps every personal field out of a raw dump of all tables, and the master key too', async () => {
    const dump = (await rawDump()).toLowerCase();
    expect(dump.length).toBeGreaterThan(10_000);
    for (const [field, value] of Object.entries(PII)) {
      expect({ field, found: dump.includes(value.toLowerCase()) }).toEqual({ field, found: false });
    }
    // Not even a distinctive part of a name.
    expect(dump).not.toContain('zwetschgen');
    expect(dump).not.toContain('quarkstrudel@');
    const keyring = await loadKeyFile(keyFile, new Date());
    expect(dump).not.toContain(keyring.current.key.toString('base64').toLowerCase());
    expect(dump).toContain('vbe1.');
    // The API still shows them to an authorized caller.
    const customer = await call('GET', `/api/v1/customers/${customerId}`);
    expect(customer.body).toMatchObject({
      name: PII.name,
      email: PII.email,
      address: PII.address,
      hasProviderCustomer: true,
    });
    expect(JSON.stringify(customer.body)).not.toContain(PII.providerCustomerId);
  });

  it('authenticates ciphertexts: a value moved to another column or altered does not decrypt', async () => {
    const cipher = await createFieldCipher(server.database.db, () => loadKeyFile(keyFile, new Date()));
    const sealed = cipher.encrypt('customers.email', 'x@example.com');
    expect(await cipher.decrypt('customers.email', sealed)).toBe('x@example.com');
    await expect(cipher.decrypt('customers.name', sealed)).rejects.toBeInstanceOf(DecryptionFailed);
    const last = sealed.at(-2) === 'A' ? 'B' : 'A';
    const altered = `${sealed.slice(0, -2)}${last}${sealed.slice(-1)}`;
    await expect(cipher.decrypt('customers.email', altered)).rejects.toBeInstanceOf(DecryptionFailed);
    expect(cipher.encrypt('customers.email', 'x@example.com')).not.toBe(sealed);
  });

  it('rotates the master key while the server runs: data keys re-wrapped, nothing re-encrypted, all readable', async () => {
    const before = await server.database.db
      .selectFrom('customers')
      .select(['name_enc'])
      .where('id', '=', customerId)
      .executeTakeFirstOrThrow();
    const oldKeyring = await loadKeyFile(keyFile, new Date());
    const keyring = await addKeyToFile(keyFile, new Date());
    expect(keyring.current.id).not.toBe(oldKeyring.current.id);
    const report = await rotateKeys(server.database.db, keyring, { newDataKey: true, now: new Date() });
    expect(report.rewrapped).toBe(2);
    expect(report.alreadyCurrent).toBe(0);
    expect(report.newDataKeyId).not.toBeNull();
    expect(await masterKeysInUse(server.database.db)).toEqual([keyring.current.id]);
    await pruneKeyFile(keyFile, [keyring.current.id]);
    const file = JSON.parse(await readFile(keyFile, 'utf8'));
    expect(file.keys.map((k: { id: string }) => k.id)).toEqual([keyring.current.id]);
    const after = await server.database.db
      .selectFrom('customers')
      .select(['name_enc'])
      .where('id', '=', customerId)
      .executeTakeFirstOrThrow();
    expect(after.name_enc).toBe(before.name_enc);

    // The running server reads old data and writes new data without a restart.
    expect((await call('GET', `/api/v1/customers/${customerId}`)).body.name).toBe(PII.name);
    const second = await call('POST', '/api/v1/customers', { name: 'Zweiter Kunde' });
    expect(second.status).toBe(201);
    // A node started after the rotation (only the new master key) reads both, and seals under the new data key.
    const fresh = await createFieldCipher(server.database.db, () => loadKeyFile(keyFile, new Date()));
    const rows = await server.database.db.selectFrom('customers').select(['id', 'name_enc']).execute();
    const names = await Promise.all(rows.map((r) => fresh.decrypt('customers.name', r.name_enc)));
    expect(names.sort()).toEqual([PII.name, 'Zweiter Kunde'].sort());
    expect(fresh.encrypt('customers.name', 'n').split('.')[1]).toBe(report.newDataKeyId);
  });
});
