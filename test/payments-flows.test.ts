/**
 * Payment flows end to end over OCPP 1.6J with the SANDBOX provider: saved card (hold → capture of the exact
 * invoice total → refund), declined card (blocked, dunning), prepaid wallet (top-up by card, debit at the end) and
 * ad-hoc QR payment (signed token, price, hold, remote start). Real database, real sockets, real webhooks.
 */
import { RPCClient } from 'ocpp-rpc';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { type RunningServer, startServer } from '../src/main.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { reconcile } from '../src/reconcile/reconcile.ts';
import { systemClock } from '../src/shared/clock.ts';
import { createTestDatabaseUrl, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const WEBHOOK_SECRET = 'sandbox-webhook-secret-for-tests';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = any;

describe.skipIf(skip)('payment flows with the SANDBOX provider', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;
  let key: string;

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers: {
        ...(key && { authorization: `Bearer ${key}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const settle = async () => {
    await server.payments.worker.runUntilIdle();
    await sandbox.flushWebhooks();
  };
  const tokenize = async (number: string) => {
    const r = await api('POST', '/sandbox/v1/payment_methods', { number, exp_month: 12, exp_year: 2034, cvc: '123' });
    expect(r.status).toBe(200);
    return r.body.id as string;
  };
  const payments = (sessionId: string) =>
    server.database.db
      .selectFrom('payments')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('created_at')
      .execute();
  const cdrTotal = async (sessionId: string) =>
    (
      await server.database.db
        .selectFrom('cdrs')
        .select('total_incl_vat_minor')
        .where('session_id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).total_incl_vat_minor;
  const balance = async (code: string) => {
    const rows = await server.database.db
      .selectFrom('ledger_postings as p')
      .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
      .select('p.amount_minor')
      .where('a.code', '=', code)
      .execute();
    return rows.reduce((sum, r) => sum + BigInt(r.amount_minor), 0n);
  };

  async function station(id: string, onRemoteStart?: (idTag: string) => void) {
    const client = new RPCClient({
      endpoint: server.ocppUrl,
      identity: id,
      protocols: ['ocpp1.6'],
      strictMode: false,
      reconnect: false,
    } as ConstructorParameters<typeof RPCClient>[0]);
    client.handle('RemoteStartTransaction', (({ params }: { params: { idTag: string } }) => {
      onRemoteStart?.(params.idTag);
      return { status: 'Accepted' };
    }) as unknown as Parameters<RPCClient['handle']>[1]);
    await client.connect();
    await client.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    return client;
  }
  async function charge(client: RPCClient, idTag: string, day: number, energyWh: number) {
    const started = (await client.call('StartTransaction', {
      connectorId: 1,
      idTag,
      meterStart: 1000,
      timestamp: `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`,
    })) as { transactionId: number; idTagInfo: { status: string } };
    const session = await server.database.db
      .selectFrom('sessions')
      .select('id')
      .where('transaction_id', '=', String(started.transactionId))
      .executeTakeFirstOrThrow();
    return {
      sessionId: session.id,
      stop: () =>
        client.call('StopTransaction', {
          transactionId: started.transactionId,
          meterStop: 1000 + energyWh,
          timestamp: `2026-11-${String(day).padStart(2, '0')}T11:00:00.000Z`,
        }),
    };
  }

  beforeAll(async () => {
    const url = await createTestDatabaseUrl();
    sandbox = createSandboxProvider({ clock: systemClock, webhookSecret: WEBHOOK_SECRET, webhookDelayMs: 1 });
    server = await startServer({
      config: loadConfig({
        VOLTBILL_HOST: '127.0.0.1',
        VOLTBILL_OCPP_PORT: '0',
        VOLTBILL_HTTP_PORT: '0',
        VOLTBILL_LOG_LEVEL: 'silent',
        VOLTBILL_PAYMENT_RETRY_BASE_MS: '1',
        VOLTBILL_RECONCILE_INTERVAL_S: '0',
      }),
      seed: true,
      logger: pino({ level: process.env.VOLTBILL_TEST_LOG ?? 'silent' }),
      database: url === 'memory' ? { kind: 'pglite', dataDir: 'memory' } : { kind: 'postgres', url },
      command: 'test',
      paymentProvider: sandbox,
      startPaymentWorker: false,
    });
    key = server.seeded!.adminApiKey;
    // Starting PGlite and migrating takes long on a busy machine.
  }, 240_000);
  afterAll(async () => {
    await server?.close();
  });

  it('saved card: holds at start, captures exactly the invoice total, refunds, and books it all', async () => {
    const ref = await tokenize('4242 4242 4242 4242');
    const saved = await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0001', paymentMethodRef: ref });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ brand: 'visa', last4: '4242', sandbox: true });
    const stored = await server.database.db.selectFrom('payment_methods').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain('4242424242424242');

    const client = await station('DEMO-0001');
    const session = await charge(client, 'DEMO0001', 2, 12_345);
    await settle();
    const [hold] = await payments(session.sessionId);
    expect(hold).toMatchObject({ kind: 'session', status: 'authorized', authorized_minor: 5000n, captured_minor: 0n });

    await session.stop();
    await settle();
    const total = await cdrTotal(session.sessionId);
    expect(total).toBeGreaterThan(0n);
    expect(total).toBeLessThan(5000n);
    const [paid] = await payments(session.sessionId);
    expect(paid).toMatchObject({ status: 'captured', captured_minor: total, due_minor: total });
    expect(paid!.invoice_id).not.toBeNull();
    const atProvider = await sandbox.getStatus({ idempotencyKey: `hold:${session.sessionId}` });
    expect(atProvider.ok && atProvider.value).toMatchObject({
      status: 'captured',
      capturedMinor: total,
      authorizedMinor: 5000n,
    });
    expect(await balance('provider_clearing:sandbox')).toBe(total);

    // Refunds: support may not; finance/admin may; a partial refund is goodwill (refunds expense).
    const partial = await api('POST', `/api/v1/payments/${paid!.id}/refunds`, { amount: '1.00', reason: 'goodwill' });
    expect(partial.status).toBe(202);
    expect(partial.body.amount).toMatchObject({ amount: '1.00', minor: '100' });
    const again = await api(
      'POST',
      `/api/v1/payments/${paid!.id}/refunds`,
      { amount: '1.00', reason: 'goodwill' },
      { 'idempotency-key': 'r-1' },
    );
    const replay = await api(
      'POST',
      `/api/v1/payments/${paid!.id}/refunds`,
      { amount: '1.00', reason: 'goodwill' },
      { 'idempotency-key': 'r-1' },
    );
    expect(replay.body).toMatchObject({ refundId: again.body.refundId, duplicate: true });
    const tooMuch = await api('POST', `/api/v1/payments/${paid!.id}/refunds`, { amount: '999.00', reason: 'x' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('RefundInvalid');
    await settle();
    const refunded = await api('GET', `/api/v1/payments/${paid!.id}`);
    expect(refunded.body).toMatchObject({ status: 'partially_refunded', refunded: { minor: '200' }, sandbox: true });
    expect(refunded.body.refunds.map((r: { status: string }) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(await balance('provider_clearing:sandbox')).toBe(total - 200n);
    expect(await balance('refunds')).toBe(200n);

    // Duplicate and tampered webhooks change nothing.
    const events = await server.database.db.selectFrom('payment_webhook_events').selectAll().execute();
    expect(events.length).toBeGreaterThanOrEqual(3);
    const forged = await fetch(`${server.httpUrl}/api/v1/payments/webhooks/sandbox`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sandbox-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`,
      },
      body: JSON.stringify({ id: 'evt_forged', type: 'payment.captured', created: 1, data: { object: {} } }),
    });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as Json).error.code).toBe('WebhookInvalid');
    await client.close({ force: true });
  });

  it('a card that cannot be charged is blocked and the session goes to dunning, never silently dropped', async () => {
    const ref = await tokenize('4000000000000341');
    expect((await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0002', paymentMethodRef: ref })).status).toBe(
      201,
    );
    const declinedAtSave = await api('POST', '/api/v1/payments/methods', {
      idTag: 'DEMO0005',
      paymentMethodRef: await tokenize('4000000000009995'),
    });
    expect(declinedAtSave.status).toBe(402);
    expect(declinedAtSave.body.error.code).toBe('PaymentDeclined');

    const client = await station('DEMO-0002');
    const session = await charge(client, 'DEMO0002', 3, 5000);
    await settle();
    await session.stop();
    await settle();
    const rows = await payments(session.sessionId);
    expect(rows.map((r) => [r.kind, r.status, r.failure_code])).toEqual([
      ['session', 'failed', 'CardDeclined'],
      ['extra', 'failed', 'CardDeclined'],
    ]);
    const method = await server.database.db
      .selectFrom('payment_methods')
      .selectAll()
      .where('last4', '=', '0341')
      .executeTakeFirstOrThrow();
    expect(method).toMatchObject({ status: 'blocked', blocked_reason: 'CardDeclined' });
    const dunning = await server.database.db.selectFrom('payment_dunning').selectAll().execute();
    expect(dunning.map((d) => d.payment_id)).toEqual([rows[1]!.id]);
    await client.close({ force: true });
  });

  it('prepaid wallet: top-up by card credits it, a session debits exactly its total through the ledger', async () => {
    const ref = await tokenize('4242424242424242');
    const card = await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0003', paymentMethodRef: ref });
    const wallet = await api('POST', '/api/v1/wallets', { idTag: 'DEMO0003', currency: 'EUR' });
    expect(wallet.status).toBe(201);
    const topUp = await api('POST', `/api/v1/wallets/${wallet.body.id}/top-ups`, {
      amount: '20.00',
      paymentMethodId: card.body.paymentMethodId,
    });
    expect(topUp.status).toBe(202);
    await settle();
    expect((await api('GET', `/api/v1/wallets/${wallet.body.id}`)).body.balance).toMatchObject({ amount: '20.00' });
    expect(await balance(`prepaid_wallets:${wallet.body.id}`)).toBe(-2000n);

    const client = await station('DEMO-0003');
    const session = await charge(client, 'DEMO0003', 4, 7000);
    await session.stop();
    await settle();
    const total = await cdrTotal(session.sessionId);
    const [debit] = await payments(session.sessionId);
    expect(debit).toMatchObject({
      kind: 'wallet_debit',
      provider: 'wallet',
      status: 'captured',
      captured_minor: total,
    });
    expect((await api('GET', `/api/v1/wallets/${wallet.body.id}`)).body.balance.minor).toBe(String(2000n - total));
    expect(await balance(`prepaid_wallets:${wallet.body.id}`)).toBe(-(2000n - total));
    await client.close({ force: true });
  });

  it('ad hoc by QR code: a signed short-lived token, the price, a hold, then the remote start and the capture', async () => {
    const qr = await api('POST', '/api/v1/payments/qr-tokens', { stationId: 'DEMO-0004', evseId: 1 });
    expect(qr.status).toBe(201);
    const saved = key;
    key = '';
    try {
      const quote = await api('GET', `/api/v1/pay/${qr.body.token}`);
      expect(quote.status).toBe(200);
      expect(quote.body).toMatchObject({
        stationId: 'DEMO-0004',
        currency: 'EUR',
        hold: { amount: '50.00' },
        sandbox: true,
      });
      const [payload, signature] = (qr.body.token as string).split('.');
      const forged = Buffer.from(JSON.stringify({ s: 'DEMO-0005', e: 1, x: 9_999_999_999 })).toString('base64url');
      expect((await api('GET', `/api/v1/pay/${forged}.${signature}`)).body.error.code).toBe('QrTokenInvalid');
      expect(payload).toBeTruthy();

      let startedWith: string | undefined;
      const client = await station('DEMO-0004', (idTag) => {
        startedWith = idTag;
      });
      const declined = await api('POST', `/api/v1/pay/${qr.body.token}/sessions`, {
        paymentMethodRef: await tokenize('4000000000000002'),
      });
      expect(declined.status).toBe(402);
      expect(startedWith).toBeUndefined();

      const started = await api('POST', `/api/v1/pay/${qr.body.token}/sessions`, {
        paymentMethodRef: await tokenize('4242424242424242'),
      });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({ status: 'authorized', remoteStart: 'Accepted', hold: { minor: '5000' } });
      expect(startedWith).toBe(started.body.idTag);
      const session = await charge(client, started.body.idTag, 5, 3000);
      await session.stop();
      await settle();
      const total = await cdrTotal(session.sessionId);
      const [paid] = await payments(session.sessionId);
      expect(paid).toMatchObject({
        kind: 'adhoc',
        status: 'captured',
        captured_minor: total,
        id: started.body.paymentId,
      });
      await client.close({ force: true });
    } finally {
      key = saved;
    }
  });

  it('a full refund with a credit note clears the invoice, and the books reconcile', async () => {
    const ref = await tokenize('4242424242424242');
    expect((await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0006', paymentMethodRef: ref })).status).toBe(
      201,
    );
    const client = await station('DEMO-0006');
    const session = await charge(client, 'DEMO0006', 6, 4000);
    await settle();
    await session.stop();
    await settle();
    const total = await cdrTotal(session.sessionId);
    const [paid] = await payments(session.sessionId);
    const partialWithNote = await api('POST', `/api/v1/payments/${paid!.id}/refunds`, {
      amount: '0.01',
      reason: 'x',
      creditNote: true,
    });
    expect(partialWithNote.status).toBe(422);
    const full = await api('POST', `/api/v1/payments/${paid!.id}/refunds`, {
      reason: 'charger fault',
      creditNote: true,
    });
    expect(full.status).toBe(202);
    expect(full.body.amount.minor).toBe(String(total));
    await settle();
    const [refunded] = await payments(session.sessionId);
    expect(refunded).toMatchObject({ status: 'refunded', refunded_minor: total });
    const refund = await server.database.db
      .selectFrom('payment_refunds')
      .selectAll()
      .where('payment_id', '=', paid!.id)
      .executeTakeFirstOrThrow();
    expect(refund).toMatchObject({ status: 'succeeded', with_credit_note: true });
    const note = await server.database.db
      .selectFrom('invoices')
      .selectAll()
      .where('id', '=', refund.credit_note_id!)
      .executeTakeFirstOrThrow();
    expect(note).toMatchObject({
      kind: 'credit_note',
      credits_invoice_id: paid!.invoice_id,
      total_incl_vat_minor: -total,
    });
    const report = await reconcile(server.database.db, systemClock);
    expect(report.differences).toEqual([]);
    await client.close({ force: true });
  });

  it('a session that ends before its hold was placed is charged its exact total in one worker step', async () => {
    const ref = await tokenize('4242424242424242');
    expect((await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0008', paymentMethodRef: ref })).status).toBe(
      201,
    );
    const clearingBefore = await balance('provider_clearing:sandbox');
    const client = await station('DEMO-0008');
    const session = await charge(client, 'DEMO0008', 8, 3000);
    // No worker pass between start and stop: the stop finds no hold and creates the payment itself.
    await session.stop();
    const total = await cdrTotal(session.sessionId);
    expect(total).toBeGreaterThan(0n);
    const [created] = await payments(session.sessionId);
    expect(created).toMatchObject({ kind: 'session', status: 'pending', requested_minor: total, due_minor: total });
    const queued = await server.database.db
      .selectFrom('payment_outbox')
      .select(['action', 'idempotency_key', 'amount_minor', 'status'])
      .where('payment_id', '=', created!.id)
      .execute();
    expect(queued).toEqual([
      { action: 'charge', idempotency_key: `charge:${created!.id}`, amount_minor: total, status: 'pending' },
    ]);
    expect(await server.payments.worker.runOnce()).toBe(1);
    await sandbox.flushWebhooks();
    const [paid] = await payments(session.sessionId);
    expect(paid).toMatchObject({
      status: 'captured',
      authorized_minor: total,
      captured_minor: total,
      due_minor: total,
    });
    expect(paid!.invoice_id).not.toBeNull();
    expect(paid!.outbox_lease_until).toBeNull();
    const atProvider = await sandbox.getStatus({ idempotencyKey: `charge:${created!.id}` });
    expect(atProvider.ok && atProvider.value).toMatchObject({ status: 'captured', capturedMinor: total });
    expect(await balance('provider_clearing:sandbox')).toBe(clearingBefore + total);
    expect(await server.payments.worker.runOnce()).toBe(0);
    await client.close({ force: true });
  });

  it('refuses request bodies with card numbers on Voltbill endpoints', async () => {
    const refused = await api('POST', '/api/v1/payments/methods', {
      idTag: 'DEMO0001',
      paymentMethodRef: '4242424242424242',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('CardDataRefused');
  });
});
