/**
 * Encryption at rest: personal data never appears in clear text in a raw dump of every table, ciphertexts are
 * authenticated and bound to their column, and master-key rotation re-wraps data keys while the server runs.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveBillingPlan } from '../src/billing/invoices/billing-plan-store.ts';
import { INVOICE_BUYER_FIELDS, openBuyer } from '../src/billing/invoices/invoice-buyer-cipher.ts';
import { loadBillingPlan } from '../src/billing/invoices/load-invoice-inputs.ts';
import { createFieldCipher, DecryptionFailed } from '../src/crypto/field-cipher.ts';
import { addKeyToFile, loadKeyFile, pruneKeyFile } from '../src/crypto/master-keyring.ts';
import { masterKeysInUse, rotateKeys } from '../src/crypto/rotate-keys.ts';
import type { RunningServer } from '../src/main.ts';
import { openProviderCustomerId, sealPlaintextProviderCustomerIds } from '../src/payments/provider-customer-id.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

const PII = {
  name: 'Wilhelmine Zwetschgenbaum',
  email: 'wilhelmine.zwetschgenbaum@example.org',
  address: 'Zwetschgenallee 77, 04109 Leipzig',
  providerCustomerId: 'cus_SecretProviderId123',
  userName: 'Kunigunde Quarkstrudel',
  userEmail: 'kunigunde.quarkstrudel@example.org',
  fleetEmail: 'rechnungen@quarkstrudel-logistik.example',
  // Invoice buyers: a per-session driver's billing plan and a monthly fleet plan, printed on issued invoices,
  // statements and credit notes.
  buyerName: 'Ottilie Rhabarberkuchen',
  buyerStreet: 'Rhabarberweg 12',
  buyerCity: 'Quedlinburg-Nord',
  buyerPostalCode: '06484-Q',
  fleetBuyerName: 'Mirabellenhof Spedition Eugenie Pflaumenmus',
  fleetBuyerStreet: 'Pflaumenmusgasse 3',
  // A driver's card label (id_tokens.label, sealed since migration 0012) and the anonymous invoice buyer named
  // after it (`<label> (<uid>)`).
  tokenLabel: 'Hildegard Stachelbeere',
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
    await seedInvoices();
  }, 300_000);

  let invoiceId: string;
  let statementId: string;
  let creditNoteId: string;

  /** Billing plans with named buyers, then real sessions over OCPP: an invoice, a statement, a credit note. */
  const seedInvoices = async () => {
    const db = server.database.db;
    const cipher = await createFieldCipher(db, () => loadKeyFile(keyFile, new Date()));
    const tokens = await db.selectFrom('id_tokens').select(['id', 'uid', 'operator_id']).execute();
    const token = (uid: string) => tokens.find((t) => t.uid === uid)!;
    await saveBillingPlan(db, cipher, {
      idTokenId: token('DEMO0001').id,
      operatorId: token('DEMO0001').operator_id,
      mode: 'per_session',
      customerId,
      buyer: {
        name: PII.buyerName,
        street: PII.buyerStreet,
        city: PII.buyerCity,
        postalCode: PII.buyerPostalCode,
        countryCode: 'DE',
        vatId: null,
      },
    });
    await saveBillingPlan(db, cipher, {
      idTokenId: token('DEMO0003').id,
      operatorId: token('DEMO0003').operator_id,
      mode: 'monthly',
      customerId: null,
      buyer: {
        name: PII.fleetBuyerName,
        street: PII.fleetBuyerStreet,
        city: 'Hamburg',
        postalCode: '20457',
        countryCode: 'DE',
        vatId: 'DE987654321',
      },
    });
    const station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    let meter = 0;
    for (const [idTag, start, stop] of [
      ['DEMO0001', '2026-11-02T10:00:00.000Z', '2026-11-02T11:00:00.000Z'],
      ['DEMO0003', '2026-10-04T10:00:00.000Z', '2026-10-04T10:20:00.000Z'],
    ] as const) {
      const started = await station.call<{ transactionId: number }>('StartTransaction', {
        connectorId: 1,
        idTag,
        meterStart: meter,
        timestamp: start,
      });
      meter += 5_000;
      await station.call('StopTransaction', {
        transactionId: started.transactionId,
        meterStop: meter,
        timestamp: stop,
      });
    }
    await station.close({ force: true });
    const invoices = await call('GET', '/api/v1/invoices?kind=invoice');
    expect(invoices.body.data).toHaveLength(1);
    invoiceId = invoices.body.data[0].id;
    const statements = await call('POST', '/api/v1/invoices/statements', { month: '2026-10' });
    expect(statements.status).toBe(201);
    statementId = statements.body.data[0].id;
    const credit = await call('POST', `/api/v1/invoices/${invoiceId}/credit-notes`, { reason: 'wrong tariff' });
    expect(credit.status).toBe(201);
    creditNoteId = credit.body.id;

    // A card labelled with its driver's name, without a billing plan: its session's invoice names the buyer by
    // the card (anonymous B2C buyer `<label> (<uid>)`).
    const labelToken = await call('POST', '/api/v1/id-tokens', { uid: 'LABEL0001', label: PII.tokenLabel });
    expect(labelToken.status).toBe(201);
    expect(labelToken.body.label).toBe(PII.tokenLabel);
    labelTokenId = labelToken.body.id;
    const labelled = await connectStation(server, 'DEMO-0002');
    await labelled.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const started = await labelled.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'LABEL0001',
      meterStart: 0,
      timestamp: '2026-11-03T10:00:00.000Z',
    });
    await labelled.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 3_000,
      timestamp: '2026-11-03T10:30:00.000Z',
    });
    await labelled.close({ force: true });
    const row = await db
      .selectFrom('invoice_sessions as i')
      .innerJoin('sessions as s', 's.id', 'i.session_id')
      .select('i.invoice_id')
      .where('s.id_tag', '=', 'LABEL0001')
      .executeTakeFirstOrThrow();
    labelInvoiceId = row.invoice_id;
    await seedCardPayment();
  };

  /**
   * A card saved through the API with the SANDBOX provider (which creates a provider customer) and a session paid
   * by it: the customer id is stored sealed in payment_methods, copied sealed into the session's payment at the
   * end of the session, and opened only for the provider call (the worker captures the payment).
   */
  const seedCardPayment = async () => {
    const db = server.database.db;
    const sandbox = server.payments.sandbox!;
    const ref = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123' });
    if (!ref.ok) throw new Error(ref.error.message);
    const saved = await call('POST', '/api/v1/payments/methods', {
      idTag: 'DEMO0002',
      paymentMethodRef: ref.value.paymentMethodRef,
    });
    expect(saved.status).toBe(201);
    cardMethodId = saved.body.paymentMethodId;
    const station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const started = await station.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0002',
      meterStart: 0,
      timestamp: '2026-11-05T10:00:00.000Z',
    });
    await station.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 4_000,
      timestamp: '2026-11-05T10:40:00.000Z',
    });
    await station.close({ force: true });
    await server.payments.worker.runUntilIdle();
    await sandbox.flushWebhooks();
    const payment = await db
      .selectFrom('payments')
      .select(['id', 'status', 'provider_customer_id'])
      .where('payment_method_id', '=', cardMethodId)
      .where('kind', '=', 'session')
      .executeTakeFirstOrThrow();
    cardPaymentId = payment.id;
  };
  let cardMethodId: string;
  let cardPaymentId: string;
  let labelTokenId: string;
  let labelInvoiceId: string;
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
    expect(dump).not.toContain('rhabarber');
    expect(dump).not.toContain('pflaumenmus');
    expect(dump).not.toContain('stachelbeere');
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

  it('stores invoice buyers sealed in billing plans and issued documents, and opens them for readers', async () => {
    const db = server.database.db;
    const plans = await db.selectFrom('invoice_billing_plans').selectAll().execute();
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      for (const value of [plan.buyer_name, plan.buyer_street, plan.buyer_city, plan.buyer_postal_code]) {
        expect(value?.startsWith('vbe1.')).toBe(true);
      }
      expect(plan.buyer_country_code).toBe('DE');
    }
    const stored = await db
      .selectFrom('invoices')
      .select(['id', 'document'])
      .where('id', 'in', [invoiceId, statementId, creditNoteId])
      .execute();
    expect(stored).toHaveLength(3);
    for (const row of stored) {
      const buyer = (row.document as { buyer: Record<string, string | null> }).buyer;
      expect(buyer.name?.startsWith('vbe1.')).toBe(true);
      expect(buyer.street?.startsWith('vbe1.')).toBe(true);
    }
    // The API, the UBL and the credit note show the buyer in clear to an authorized caller.
    const invoice = await call('GET', `/api/v1/invoices/${invoiceId}`);
    expect(invoice.body.document.buyer).toEqual({
      name: PII.buyerName,
      street: PII.buyerStreet,
      city: PII.buyerCity,
      postalCode: PII.buyerPostalCode,
      countryCode: 'DE',
      vatId: null,
    });
    const note = await call('GET', `/api/v1/invoices/${creditNoteId}`);
    expect(note.body.document.buyer.name).toBe(PII.buyerName);
    const statement = await call('GET', `/api/v1/invoices/${statementId}`);
    expect(statement.body.document.buyer).toMatchObject({ name: PII.fleetBuyerName, vatId: 'DE987654321' });
    const xml = await (
      await fetch(`${server.httpUrl}/api/v1/invoices/${statementId}.xml`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
    ).text();
    expect(xml).toContain(PII.fleetBuyerName);
    expect(xml).toContain(PII.fleetBuyerStreet);
    expect(xml).not.toContain('vbe1.');
    const pdf = await fetch(`${server.httpUrl}/api/v1/invoices/${invoiceId}.pdf`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(pdf.status).toBe(200);
    // A sealed buyer field moved to another field does not open (the field is bound into the ciphertext).
    const cipher = await createFieldCipher(db, () => loadKeyFile(keyFile, new Date()));
    const plan = plans[0]!;
    await expect(cipher.decrypt(INVOICE_BUYER_FIELDS.city, plan.buyer_name!)).rejects.toBeInstanceOf(DecryptionFailed);
  });

  it('stores card labels sealed, names the anonymous invoice buyer by them sealed, and opens both for readers', async () => {
    const db = server.database.db;
    const token = await db
      .selectFrom('id_tokens')
      .select(['label', 'anonymous_buyer_name'])
      .where('id', '=', labelTokenId)
      .executeTakeFirstOrThrow();
    expect(token.label?.startsWith('vbe1.')).toBe(true);
    expect(token.anonymous_buyer_name?.startsWith('vbe1.')).toBe(true);
    const stored = await db
      .selectFrom('invoices')
      .select('document')
      .where('id', '=', labelInvoiceId)
      .executeTakeFirstOrThrow();
    const buyer = (stored.document as { buyer: { name: string } }).buyer;
    expect(buyer.name).toBe(token.anonymous_buyer_name);
    // Readers see them in clear: the token (staff and dashboard) and the invoice (JSON and UBL).
    expect((await call('GET', `/api/v1/id-tokens/${labelTokenId}`)).body.label).toBe(PII.tokenLabel);
    const listed = await call('GET', '/api/v1/id-tokens');
    expect(listed.body.data.find((t: { id: string }) => t.id === labelTokenId).label).toBe(PII.tokenLabel);
    const invoice = await call('GET', `/api/v1/invoices/${labelInvoiceId}`);
    expect(invoice.body.document.buyer.name).toBe(`${PII.tokenLabel} (LABEL0001)`);
    const xml = await (
      await fetch(`${server.httpUrl}/api/v1/invoices/${labelInvoiceId}.xml`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
    ).text();
    expect(xml).toContain(`${PII.tokenLabel} (LABEL0001)`);
    // A relabel is sealed too; its audit entry says that the label changed, never what it says.
    const relabelled = await call('PATCH', `/api/v1/id-tokens/${labelTokenId}`, { label: 'Hildegard S. Neu' });
    expect(relabelled.body.label).toBe('Hildegard S. Neu');
    const after = await db
      .selectFrom('id_tokens')
      .select('label')
      .where('id', '=', labelTokenId)
      .executeTakeFirstOrThrow();
    expect(after.label?.startsWith('vbe1.')).toBe(true);
    const audit = await db
      .selectFrom('audit_log')
      .select(['before', 'after'])
      .where('subject_id', '=', labelTokenId)
      .orderBy('seq')
      .execute();
    expect(audit.map((a) => (a.after as { hasLabel: boolean }).hasLabel)).toEqual([true, true]);
    expect((audit[1]!.after as { labelChanged?: boolean }).labelChanged).toBe(true);
    expect(JSON.stringify(audit).toLowerCase()).not.toContain('hildegard');
    // A label written in clear before migration 0012 is read as it is.
    const legacy = await db
      .insertInto('id_tokens')
      .values({
        operator_id: (await db.selectFrom('operators').select('id').executeTakeFirstOrThrow()).id,
        uid: 'LEGACY0001',
        status: 'Accepted',
        label: 'legacy card',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await call('GET', `/api/v1/id-tokens/${legacy.id}`)).body.label).toBe('legacy card');
  });

  it('stores the provider customer id sealed in saved cards and payments, and opens it only for provider calls', async () => {
    const db = server.database.db;
    const method = await db
      .selectFrom('payment_methods')
      .select('provider_customer_id')
      .where('id', '=', cardMethodId)
      .executeTakeFirstOrThrow();
    const payment = await db
      .selectFrom('payments')
      .select(['status', 'provider_customer_id', 'captured_minor'])
      .where('id', '=', cardPaymentId)
      .executeTakeFirstOrThrow();
    expect(method.provider_customer_id.startsWith('vbe1.')).toBe(true);
    // Copied sealed, as it is, from the saved card into the payment (one context for both columns).
    expect(payment.provider_customer_id).toBe(method.provider_customer_id);
    // The worker opened it for the provider: the SANDBOX knows the customer and captured the session's amount.
    expect(payment.status).toBe('captured');
    expect(BigInt(payment.captured_minor)).toBeGreaterThan(0n);
    const cipher = await createFieldCipher(db, () => loadKeyFile(keyFile, new Date()));
    const customerId = await openProviderCustomerId(cipher, method.provider_customer_id);
    expect(customerId).toMatch(/^cus_/);
    const dump = await rawDump();
    expect(dump).not.toContain(customerId);
    // Bound to its context: it does not open as another column's value.
    await expect(cipher.decrypt('customers.provider_customer_id', method.provider_customer_id)).rejects.toBeInstanceOf(
      DecryptionFailed,
    );
    // Legacy clear-text values (written before sealing) are read as they are.
    expect(await openProviderCustomerId(cipher, 'cus_legacy_clear')).toBe('cus_legacy_clear');
    expect(await openProviderCustomerId(cipher, null)).toBe(null);
    // A legacy clear-text value is sealed by sealPlaintextProviderCustomerIds; sealed ones are left as they are.
    await db
      .updateTable('payments')
      .set({ provider_customer_id: 'cus_legacy_clear' })
      .where('id', '=', cardPaymentId)
      .execute();
    expect(await sealPlaintextProviderCustomerIds(db, cipher)).toBe(1);
    const resealed = await db
      .selectFrom('payments')
      .select('provider_customer_id')
      .where('id', '=', cardPaymentId)
      .executeTakeFirstOrThrow();
    expect(resealed.provider_customer_id?.startsWith('vbe1.')).toBe(true);
    expect(await openProviderCustomerId(cipher, resealed.provider_customer_id)).toBe('cus_legacy_clear');
    expect(await sealPlaintextProviderCustomerIds(db, cipher)).toBe(0);
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
    // A billing plan written in clear text before migration 0007 (here: by hand) is sealed by the rotation.
    const legacyToken = await server.database.db
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', 'DEMO0002')
      .executeTakeFirstOrThrow();
    await server.database.db
      .insertInto('invoice_billing_plans')
      .values({
        id_token_id: legacyToken.id,
        operator_id: legacyToken.operator_id,
        mode: 'per_session',
        buyer_name: 'Legacy Zwiebelkuchen',
        buyer_street: 'Zwiebelgasse 9',
        buyer_city: 'Weimar',
        buyer_postal_code: null,
        buyer_country_code: 'DE',
      })
      .execute();
    expect((await loadBillingPlan(server.database.db, legacyToken.id)).buyer?.name).toBe('Legacy Zwiebelkuchen');
    const report = await rotateKeys(server.database.db, keyring, { newDataKey: true, now: new Date() });
    expect(report.sealedPlaintext).toBe(3);
    expect((await rawDump()).toLowerCase()).not.toContain('zwiebel');
    const sealedPlan = await loadBillingPlan(server.database.db, legacyToken.id);
    const reader = await createFieldCipher(server.database.db, () => loadKeyFile(keyFile, new Date()));
    expect(await openBuyer(reader, sealedPlan.buyer!)).toMatchObject({
      name: 'Legacy Zwiebelkuchen',
      street: 'Zwiebelgasse 9',
      city: 'Weimar',
      postalCode: null,
    });
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
