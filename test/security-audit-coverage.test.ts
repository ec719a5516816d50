/**
 * The changes that used to leave no audit entry now leave exactly one each, with who, what, which object and
 * before/after, and the chain still verifies: stations registered, removed and rejected through the API; remote
 * commands (the intent before sending, the outcome after; a password never recorded); refunds; monthly
 * statements; and `voltbill keys rotate` (actor cli, with the counts). Real HTTP API, real OCPP sockets, real
 * database (PGlite and PostgreSQL).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateApiKey } from '../src/api/api-keys.ts';
import { verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import { saveBillingPlan } from '../src/billing/invoices/billing-plan-store.ts';
import { openTokenLabel } from '../src/billing/invoices/id-token-label-cipher.ts';
import { INVOICE_BUYER_FIELDS } from '../src/billing/invoices/invoice-buyer-cipher.ts';
import type { CommandIo } from '../src/cli.ts';
import { runKeysCommand } from '../src/commands/keys-command.ts';
import { createFieldCipher } from '../src/crypto/field-cipher.ts';
import { loadKeyFile } from '../src/crypto/master-keyring.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import type { Database } from '../src/db/schema.ts';
import type { RunningServer } from '../src/main.ts';
import { connectV201Station } from './support/ocpp-v201-client.ts';
import { createTestDatabaseUrl, postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

type AuditRow = {
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
};

const entries = async (db: Kysely<Database>, action: string, subjectId?: string): Promise<AuditRow[]> => {
  let query = db
    .selectFrom('audit_log')
    .select(['actor', 'action', 'subject_type', 'subject_id', 'before', 'after', 'request_id'])
    .where('action', '=', action);
  if (subjectId !== undefined) query = query.where('subject_id', '=', subjectId);
  return (await query.orderBy('seq').execute()) as AuditRow[];
};

describe.skipIf(skip)('audit coverage of stations, commands, refunds and statements (API)', () => {
  let server: RunningServer;
  let keyDir: string;
  let admin: string;
  let actor: string;
  let operatorId: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  const call = async (method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${server.httpUrl}/api/v1${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };
  const chainHolds = async () => {
    const report = await verifyAuditChain(server.database.db);
    expect({ ok: report.ok, problems: report.problems }).toEqual({ ok: true, problems: [] });
  };

  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(tmpdir(), 'vb-audit-cov-'));
    server = await startTestServer({ VOLTBILL_MASTER_KEY_FILE: path.join(keyDir, 'master-key.json') });
    admin = server.seeded!.adminApiKey;
    const principal = await authenticateApiKey(server.database.db, admin, new Date());
    actor = `api-key:${(principal as { keyId: string }).keyId}`;
    operatorId = (principal as { operatorId: string }).operatorId;
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    await rm(keyDir, { recursive: true, force: true });
  }, 120_000);

  it('audits a station registered and removed through the API, never with its password', async () => {
    const created = await call('POST', '/stations', { id: 'AUD-ST1', securityProfile: 1, evses: 2 });
    expect(created.status).toBe(201);
    const generated = created.body.password as string;
    expect(generated).toHaveLength(24);
    const withGiven = await call('POST', '/stations', {
      id: 'AUD-ST2',
      securityProfile: 2,
      password: 'given-pw-0123456789',
    });
    expect(withGiven.status).toBe(201);

    const [add1, ...more1] = await entries(server.database.db, 'station.create', 'AUD-ST1');
    expect(more1).toEqual([]);
    const locationId = (add1!.after as { locationId: string }).locationId;
    expect(add1).toMatchObject({ actor, subject_type: 'station', subject_id: 'AUD-ST1', before: null });
    expect(add1!.after).toEqual({
      id: 'AUD-ST1',
      locationId,
      registrationStatus: 'Accepted',
      securityProfile: 1,
      hasPassword: true,
      evseCount: 2,
      passwordGenerated: true,
    });
    const [add2, ...more2] = await entries(server.database.db, 'station.create', 'AUD-ST2');
    expect(more2).toEqual([]);
    expect(add2!.after).toMatchObject({ securityProfile: 2, hasPassword: true, passwordGenerated: false });
    const all = JSON.stringify(await entries(server.database.db, 'station.create'));
    expect(all).not.toContain(generated);
    expect(all).not.toContain('given-pw-0123456789');
    expect(all).not.toContain('scrypt');

    // Refused registrations write nothing.
    expect((await call('POST', '/stations', { id: 'AUD-ST1' })).status).toBe(409);
    expect((await call('POST', '/stations', { id: 'AUD-ST3', password: 'short' })).status).toBe(400);
    expect(await entries(server.database.db, 'station.create', 'AUD-ST1')).toHaveLength(1);
    expect(await entries(server.database.db, 'station.create', 'AUD-ST3')).toHaveLength(0);

    const removed = await call('DELETE', '/stations/AUD-ST1');
    expect(removed.status).toBe(200);
    const deletes = await entries(server.database.db, 'station.delete', 'AUD-ST1');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({ actor, subject_type: 'station', after: null });
    expect(deletes[0]!.before).toEqual({
      id: 'AUD-ST1',
      locationId,
      registrationStatus: 'Accepted',
      securityProfile: 1,
      hasPassword: true,
    });
    expect((await call('DELETE', '/stations/AUD-ST1')).status).toBe(404);
    expect(await entries(server.database.db, 'station.delete', 'AUD-ST1')).toHaveLength(1);
    await chainHolds();
  }, 120_000);

  it('refuses unknown properties on POST /stations (closed schema) and writes nothing', async () => {
    const refused = await call('POST', '/stations', { id: 'AUD-ST4', operatorId: 'someone-else' });
    expect([refused.status, refused.body.error.code, refused.body.error.path]).toEqual([
      400,
      'InvalidRequest',
      '$.operatorId',
    ]);
    const badType = await call('POST', '/stations', { id: 'AUD-ST4', evses: 'two' });
    expect([badType.status, badType.body.error.code]).toEqual([400, 'InvalidRequest']);
    const row = await server.database.db
      .selectFrom('stations')
      .select('id')
      .where('id', '=', 'AUD-ST4')
      .executeTakeFirst();
    expect(row).toBeUndefined();
    expect(await entries(server.database.db, 'station.create', 'AUD-ST4')).toHaveLength(0);
  });

  it('audits a remote command before it is sent and its outcome after; a password is never recorded', async () => {
    const station = await connectV201Station(server, 'DEMO-0003');
    try {
      await station.call('BootNotification', {
        chargingStation: { vendorName: 'ACME', model: 'AC22' },
        reason: 'PowerUp',
      });
      station.answer('Reset', () => ({ status: 'Accepted' }));
      const reset = await call('POST', '/stations/DEMO-0003/commands/reset', { type: 'Hard' });
      expect(reset.status).toBe(200);
      const requested = await entries(server.database.db, 'station.command-request', 'DEMO-0003');
      const results = await entries(server.database.db, 'station.command-result', 'DEMO-0003');
      expect(requested).toHaveLength(1);
      expect(results).toHaveLength(1);
      expect(requested[0]).toMatchObject({ actor, subject_type: 'station', before: null });
      expect(requested[0]!.after).toEqual({ command: 'reset', input: { type: 'Hard' } });
      expect(results[0]).toMatchObject({ actor, request_id: requested[0]!.request_id });
      expect(results[0]!.before).toEqual({ command: 'reset', input: { type: 'Hard' } });
      expect(results[0]!.after).toEqual({
        ok: true,
        method: 'Reset',
        protocol: 'ocpp2.0.1',
        accepted: true,
        status: 'Accepted',
      });

      const secret = 'station-secret-0123456789';
      station.answer('SetVariables', () => ({
        setVariableResult: [
          {
            attributeStatus: 'Accepted',
            component: { name: 'SecurityCtrlr' },
            variable: { name: 'BasicAuthPassword' },
          },
        ],
      }));
      const rotated = await call('POST', '/stations/DEMO-0003/commands/set-password', { password: secret });
      expect(rotated.body).toMatchObject({ ok: true, accepted: true });
      const passwordRequest = (await entries(server.database.db, 'station.command-request', 'DEMO-0003')).at(-1)!;
      const passwordResult = (await entries(server.database.db, 'station.command-result', 'DEMO-0003')).at(-1)!;
      expect(passwordRequest.after).toEqual({ command: 'set-password', input: { passwordGiven: true } });
      expect(passwordResult.after).toEqual({
        ok: true,
        method: 'SetVariables',
        protocol: 'ocpp2.0.1',
        accepted: true,
        status: null,
        passwordChanged: true,
      });
      const dump = JSON.stringify(
        await server.database.db.selectFrom('audit_log').select(['before', 'after']).execute(),
      );
      expect(dump).not.toContain(secret);
    } finally {
      await station.close({ force: true });
    }
    // A station that is not connected: the request and its failed outcome are both on record.
    const offline = await call('POST', '/stations/DEMO-0007/commands/reset', { type: 'Soft' });
    expect(offline.status).toBe(409);
    const offlineResults = await entries(server.database.db, 'station.command-result', 'DEMO-0007');
    expect(offlineResults).toHaveLength(1);
    expect(offlineResults[0]!.after).toMatchObject({ ok: false, errorCode: 'StationNotConnected' });
    expect(await entries(server.database.db, 'station.command-request', 'DEMO-0007')).toHaveLength(1);
    await chainHolds();
  }, 120_000);

  it('audits a refund in the transaction that records it, and not again on an idempotent replay', async () => {
    const payment = await server.database.db
      .insertInto('payments')
      .values({
        operator_id: operatorId,
        kind: 'extra',
        provider: 'sandbox',
        session_id: null,
        id_token_id: null,
        payment_method_id: null,
        wallet_id: null,
        payment_method_token: null,
        provider_customer_id: null,
        provider_payment_id: 'pi_audit_coverage_1',
        currency: 'EUR',
        requested_minor: 1_500n,
        authorized_minor: 1_500n,
        captured_minor: 1_500n,
        due_minor: 1_500n,
        invoice_id: null,
        status: 'captured',
        hold_expires_at: null,
        failure_code: null,
        station_id: null,
        evse_id: null,
        settles_payment_id: null,
        renewed_from_provider_payment_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const refund = async (key: string) => {
      const response = await fetch(`${server.httpUrl}/api/v1/payments/${payment.id}/refunds`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ amount: '4.25', reason: 'charger fault' }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: checked by the assertions.
      return { status: response.status, body: (await response.json()) as any };
    };
    const first = await refund('audit-refund-1');
    expect(first.status).toBe(202);
    const replay = await refund('audit-refund-1');
    expect(replay.body).toMatchObject({ refundId: first.body.refundId, duplicate: true });
    const refused = await fetch(`${server.httpUrl}/api/v1/payments/${payment.id}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '99.00', reason: 'too much' }),
    });
    expect(refused.status).toBe(422);
    const audited = await entries(server.database.db, 'payment.refund', payment.id);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ actor, subject_type: 'payment' });
    expect(audited[0]!.before).toEqual({ capturedMinor: '1500', refundedMinor: '0' });
    expect(audited[0]!.after).toEqual({
      refundId: first.body.refundId,
      amountMinor: '425',
      currency: 'EUR',
      reason: 'charger fault',
      creditNote: false,
      status: 'pending',
    });
    await chainHolds();
  }, 120_000);

  it('rolls back a station registration, removal or refund whose audit entry cannot be written', async () => {
    const db = server.database.db;
    expect((await call('POST', '/stations', { id: 'AUD-ATOM' })).status).toBe(201);
    const payment = await db
      .selectFrom('payments')
      .select('id')
      .where('provider_payment_id', '=', 'pi_audit_coverage_1')
      .executeTakeFirstOrThrow();
    const refundsBefore = await db
      .selectFrom('payment_refunds')
      .select('id')
      .where('payment_id', '=', payment.id)
      .execute();
    await sql`create or replace function vb_test_refuse_audit() returns trigger language plpgsql as $$
      begin raise exception 'audit append refused by the test'; end $$`.execute(db);
    await sql`create trigger vb_test_refuse_audit before insert on audit_log
      for each row execute function vb_test_refuse_audit()`.execute(db);
    try {
      const created = await call('POST', '/stations', { id: 'AUD-ATOM2' });
      expect([created.status, created.body.error.code]).toEqual([500, 'InternalError']);
      const removed = await call('DELETE', '/stations/AUD-ATOM');
      expect([removed.status, removed.body.error.code]).toEqual([500, 'InternalError']);
      const refund = await call('POST', `/payments/${payment.id}/refunds`, { amount: '1.00', reason: 'atomic' });
      expect([refund.status, refund.body.error.code]).toEqual([500, 'InternalError']);
    } finally {
      await sql`drop trigger vb_test_refuse_audit on audit_log`.execute(db);
    }
    const stations = await db
      .selectFrom('stations')
      .select('id')
      .where('id', 'in', ['AUD-ATOM', 'AUD-ATOM2'])
      .orderBy('id')
      .execute();
    expect(stations.map((r) => r.id)).toEqual(['AUD-ATOM']);
    const refundsAfter = await db
      .selectFrom('payment_refunds')
      .select('id')
      .where('payment_id', '=', payment.id)
      .execute();
    expect(refundsAfter).toHaveLength(refundsBefore.length);
    await chainHolds();
  }, 120_000);

  it('audits each monthly statement in its issuing transaction, and a station with sessions set to Rejected', async () => {
    const db = server.database.db;
    const cipher = await createFieldCipher(db, () => loadKeyFile(path.join(keyDir, 'master-key.json'), new Date()));
    const token = await db
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', 'DEMO0003')
      .executeTakeFirstOrThrow();
    await saveBillingPlan(db, cipher, {
      idTokenId: token.id,
      operatorId: token.operator_id,
      mode: 'monthly',
      customerId: null,
      buyer: null,
    });
    const station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const started = await station.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0003',
      meterStart: 0,
      timestamp: '2026-10-04T10:00:00.000Z',
    });
    await station.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 5_000,
      timestamp: '2026-10-04T10:20:00.000Z',
    });
    await station.close({ force: true });

    const issued = await call('POST', '/invoices/statements', { month: '2026-10' });
    expect(issued.status).toBe(201);
    expect(issued.body.data).toHaveLength(1);
    const statement = issued.body.data[0];
    const audited = await entries(db, 'invoice.issue-statement');
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ actor, subject_type: 'invoice', subject_id: statement.id, before: null });
    const shown = await call('GET', `/invoices/${statement.id}`);
    expect(audited[0]!.after).toEqual({
      invoiceNumber: statement.invoiceNumber,
      month: '2026-10',
      sessions: 1,
      totalInclVatMinor: shown.body.document.totals.inclVatMinor,
      currency: 'EUR',
    });
    // Issuing the same month again issues nothing and records nothing.
    expect((await call('POST', '/invoices/statements', { month: '2026-10' })).body.data).toEqual([]);
    expect(await entries(db, 'invoice.issue-statement')).toHaveLength(1);

    // DEMO-0001 now has a session: removing it sets it to Rejected instead, and that change is audited.
    const remove = await call('DELETE', '/stations/DEMO-0001');
    expect([remove.status, remove.body.error.code]).toEqual([409, 'StationHasSessions']);
    const rejected = await entries(db, 'station.reject', 'DEMO-0001');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ actor, subject_type: 'station' });
    expect((rejected[0]!.before as { registrationStatus: string }).registrationStatus).toBe('Accepted');
    expect((rejected[0]!.after as { registrationStatus: string }).registrationStatus).toBe('Rejected');
    const row = await db
      .selectFrom('stations')
      .select('registration_status')
      .where('id', '=', 'DEMO-0001')
      .executeTakeFirstOrThrow();
    expect(row.registration_status).toBe('Rejected');
    expect(await entries(db, 'station.delete', 'DEMO-0001')).toHaveLength(0);
    await chainHolds();
  }, 180_000);
});

describe.skipIf(skip)('audit coverage of `voltbill keys rotate` (CLI)', () => {
  let dir: string;
  let env: Record<string, string>;
  const open = () =>
    openDatabase(
      env.DATABASE_URL
        ? { kind: 'postgres', url: env.DATABASE_URL }
        : { kind: 'pglite', dataDir: env.VOLTBILL_DATA_DIR!, command: 'test' },
    );
  const run = async (argv: string[]) => {
    let stdout = '';
    const io: CommandIo = {
      stdout: (t) => {
        stdout += t;
      },
      stderr: () => undefined,
      isTTY: false,
    };
    const code = await runKeysCommand(argv, io, env);
    return { code, stdout };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vb-audit-keys-'));
    const url = await createTestDatabaseUrl();
    env = {
      VOLTBILL_DATA_DIR: path.join(dir, 'data'),
      VOLTBILL_MASTER_KEY_FILE: path.join(dir, 'master-key.json'),
      ...(url !== 'memory' && { DATABASE_URL: url }),
    };
    const handle = await open();
    try {
      await migrateToLatest(handle.db);
      await handle.db
        .insertInto('operators')
        .values([
          { name: 'Keys CPO A', country_code: 'DE', party_id: 'KYA', currency: 'EUR' },
          { name: 'Keys CPO B', country_code: 'AT', party_id: 'KYB', currency: 'EUR' },
        ])
        .execute();
      // A card label written in clear before migration 0012: the rotation seals it.
      const operator = await handle.db.selectFrom('operators').select('id').orderBy('id').executeTakeFirstOrThrow();
      await handle.db
        .insertInto('id_tokens')
        .values({ operator_id: operator.id, uid: 'OLDLABEL1', status: 'Accepted', label: 'Gertrud Holunder' })
        .execute();
    } finally {
      await handle.close();
    }
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records each rotation once in every operator chain, as the cli, with the counts and no key material', async () => {
    const first = await run(['rotate', '--json']);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    const second = JSON.parse((await run(['rotate', '--json', '--new-data-key'])).stdout);
    const handle = await open();
    try {
      const operators = await handle.db.selectFrom('operators').select('id').execute();
      for (const { id } of operators) {
        const rows = await handle.db
          .selectFrom('audit_log')
          .select(['actor', 'action', 'subject_type', 'subject_id', 'before', 'after'])
          .where('operator_id', '=', id)
          .orderBy('seq')
          .execute();
        expect(rows).toEqual([
          {
            actor: 'cli',
            action: 'keys.rotate',
            subject_type: 'encryption-keys',
            subject_id: report.currentMasterKey,
            before: null,
            after: {
              currentMasterKey: report.currentMasterKey,
              rewrapped: report.rewrapped,
              alreadyCurrent: report.alreadyCurrent,
              newDataKeyId: null,
              sealedPlaintext: report.sealedPlaintext,
              sealedLabels: report.sealedLabels,
              sealedProviderIds: report.sealedProviderIds,
              prunedMasterKeys: report.prunedMasterKeys,
            },
          },
          {
            actor: 'cli',
            action: 'keys.rotate',
            subject_type: 'encryption-keys',
            subject_id: second.currentMasterKey,
            before: null,
            after: {
              currentMasterKey: second.currentMasterKey,
              rewrapped: second.rewrapped,
              alreadyCurrent: second.alreadyCurrent,
              newDataKeyId: second.newDataKeyId,
              sealedPlaintext: second.sealedPlaintext,
              sealedLabels: second.sealedLabels,
              sealedProviderIds: second.sealedProviderIds,
              prunedMasterKeys: second.prunedMasterKeys,
            },
          },
        ]);
      }
      expect(report.rewrapped).toBe(2);
      expect([report.sealedLabels, second.sealedLabels]).toEqual([1, 0]);
      expect([report.sealedProviderIds, second.sealedProviderIds]).toEqual([0, 0]);
      const token = await handle.db
        .selectFrom('id_tokens')
        .select(['label', 'anonymous_buyer_name'])
        .where('uid', '=', 'OLDLABEL1')
        .executeTakeFirstOrThrow();
      const cipher = await createFieldCipher(handle.db, () => loadKeyFile(env.VOLTBILL_MASTER_KEY_FILE!, new Date()));
      expect(await openTokenLabel(cipher, token.label)).toBe('Gertrud Holunder');
      expect(await cipher.decrypt(INVOICE_BUYER_FIELDS.name, token.anonymous_buyer_name!)).toBe(
        'Gertrud Holunder (OLDLABEL1)',
      );
      expect(typeof second.newDataKeyId).toBe('string');
      const chain = await verifyAuditChain(handle.db);
      expect(chain).toMatchObject({ ok: true, operators: 2, entries: 4, problems: [] });
    } finally {
      await handle.close();
    }
  }, 180_000);
});
