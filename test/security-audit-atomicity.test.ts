/**
 * Every audited change commits together with its audit entry: when the audit append fails (here a test trigger
 * refuses inserts into audit_log), the change is rolled back too, and when the change succeeds exactly one
 * entry names it. Covers tariffs (new version, assignment, retirement), customers, fleets, id tokens, users, API
 * keys and credit notes over the real HTTP API on the real database.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

const flatTariff = (id: string) => ({
  country_code: 'DE',
  party_id: 'VBL',
  id,
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.42, vat: 19, step_size: 1 }] }],
  last_updated: '2026-11-01T00:00:00Z',
});

describe.skipIf(skip)('audit entries commit in the same transaction as the change', () => {
  let server: RunningServer;
  let admin: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${server.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };
  const count = async (table: string): Promise<number> => {
    const result = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table)}`.execute(
      server.database.db,
    );
    return Number(result.rows[0]!.n);
  };
  const breakAudit = async () => {
    await sql`create or replace function vb_test_refuse_audit() returns trigger language plpgsql as $$
      begin raise exception 'audit append refused by the test'; end $$`.execute(server.database.db);
    await sql`create trigger vb_test_refuse_audit before insert on audit_log
      for each row execute function vb_test_refuse_audit()`.execute(server.database.db);
  };
  const repairAudit = async () => {
    await sql`drop trigger vb_test_refuse_audit on audit_log`.execute(server.database.db);
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = server.seeded!.adminApiKey;
    expect((await call('POST', '/tariffs', { tariff: flatTariff('ATOMIC-BASE') })).status).toBe(201);
    // One charging session, so that there is an invoice to credit.
    const station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const started = await station.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 0,
      timestamp: '2026-11-02T10:00:00.000Z',
    });
    await station.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 4_000,
      timestamp: '2026-11-02T10:30:00.000Z',
    });
    await station.close({ force: true });
    invoiceId = (await call('GET', '/invoices?kind=invoice')).body.data[0].id;
  }, 300_000);
  let invoiceId: string;
  afterAll(async () => {
    await server?.close();
  }, 120_000);

  it('rolls back each change whose audit entry cannot be written', async () => {
    const changes: { name: string; table: string; method: string; path: string; body?: unknown }[] = [
      {
        name: 'tariff version',
        table: 'tariff_versions',
        method: 'POST',
        path: '/tariffs',
        body: { tariff: flatTariff('ATOMIC-NEW') },
      },
      {
        name: 'tariff assignment',
        table: 'tariff_assignments',
        method: 'PUT',
        path: '/tariff-assignments',
        body: { tariffCode: 'ATOMIC-BASE', scope: 'group', groupId: 'atomic-group' },
      },
      { name: 'customer', table: 'customers', method: 'POST', path: '/customers', body: { name: 'Atomic Customer' } },
      { name: 'fleet', table: 'fleets', method: 'POST', path: '/fleets', body: { name: 'Atomic Fleet' } },
      { name: 'id token', table: 'id_tokens', method: 'POST', path: '/id-tokens', body: { uid: 'ATOMIC0001' } },
      {
        name: 'user',
        table: 'users',
        method: 'POST',
        path: '/users',
        body: { email: 'atomic@example.org', password: 'a-long-password-1', role: 'support' },
      },
      {
        name: 'api key',
        table: 'api_keys',
        method: 'POST',
        path: '/api-keys',
        body: { name: 'atomic', role: 'finance' },
      },
      {
        name: 'credit note',
        table: 'invoices',
        method: 'POST',
        path: `/invoices/${invoiceId}/credit-notes`,
        body: { reason: 'atomicity' },
      },
    ];
    const auditBefore = await count('audit_log');
    await breakAudit();
    try {
      for (const change of changes) {
        const rowsBefore = await count(change.table);
        const response = await call(change.method, change.path, change.body);
        expect({ change: change.name, status: response.status, code: response.body.error?.code }).toEqual({
          change: change.name,
          status: 500,
          code: 'InternalError',
        });
        expect({ change: change.name, rows: await count(change.table) }).toEqual({
          change: change.name,
          rows: rowsBefore,
        });
      }
      // Retiring a tariff: the tariff stays in force.
      const retire = await call('POST', '/tariffs/ATOMIC-BASE/retire');
      expect(retire.status).toBe(500);
      const tariff = await server.database.db
        .selectFrom('tariffs')
        .select('retired_at')
        .where('code', '=', 'ATOMIC-BASE')
        .executeTakeFirstOrThrow();
      expect(tariff.retired_at).toBeNull();
    } finally {
      await repairAudit();
    }
    expect(await count('audit_log')).toBe(auditBefore);
    const orphan = await server.database.db
      .selectFrom('tariffs')
      .select('id')
      .where('code', '=', 'ATOMIC-NEW')
      .executeTakeFirst();
    expect(orphan).toBeUndefined();
  });

  it('writes exactly one entry per successful change, in the same commit', async () => {
    const before = await count('audit_log');
    const created = await call('POST', '/tariffs', { tariff: flatTariff('ATOMIC-NEW') });
    expect(created.status).toBe(201);
    const assigned = await call('PUT', '/tariff-assignments', {
      tariffCode: 'ATOMIC-NEW',
      scope: 'group',
      groupId: 'atomic-group',
    });
    expect(assigned.status).toBe(200);
    const entries = await server.database.db
      .selectFrom('audit_log')
      .select(['action', 'subject_id'])
      .where('seq', '>', 0n)
      .orderBy('id')
      .execute();
    expect(entries.length).toBe(before + 2);
    expect(entries.slice(-2)).toEqual([
      { action: 'tariff.create-version', subject_id: 'ATOMIC-NEW' },
      { action: 'tariff.assign', subject_id: assigned.body.id },
    ]);
    // Replacing the assignment at the same scope records what it replaced.
    const replacing = await call('PUT', '/tariff-assignments', {
      tariffCode: 'ATOMIC-BASE',
      scope: 'group',
      groupId: 'atomic-group',
    });
    expect(replacing.status).toBe(200);
    const replaced = await server.database.db
      .selectFrom('audit_log')
      .select(['action', 'before', 'after'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(replaced).toEqual({
      action: 'tariff.assign',
      before: { tariffCodes: ['ATOMIC-NEW'] },
      after: { tariffCode: 'ATOMIC-BASE', scope: 'group', groupId: 'atomic-group', audience: 'contract' },
    });
    const credited = await call('POST', `/invoices/${invoiceId}/credit-notes`, { reason: 'atomicity' });
    expect(credited.status).toBe(201);
    const credit = await server.database.db
      .selectFrom('audit_log')
      .select(['action', 'subject_id', 'after'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(credit).toEqual({
      action: 'invoice.credit',
      subject_id: invoiceId,
      after: { creditNoteId: credited.body.id, invoiceNumber: credited.body.invoiceNumber, reason: 'atomicity' },
    });
    const verify = await call('GET', '/audit/verify');
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
  });
});
