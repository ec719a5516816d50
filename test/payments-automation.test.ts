/**
 * Payment automation end to end over real OCPP clients (1.6J and 2.0.1) with the SANDBOX provider: prepaid wallet
 * refusal and remote stop when the balance is used up, velocity limits, a failed card refused until paid, dunning
 * with a signed pay link and signed operator webhooks, hold renewal in place, and provider disputes. Real database,
 * real sockets, real webhooks (sandbox → Voltbill and Voltbill → an operator endpoint).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RPCClient } from 'ocpp-rpc';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { type RunningServer, startServer } from '../src/main.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { verifyWebhookSignature } from '../src/payments/webhook-signature.ts';
import { reconcile } from '../src/reconcile/reconcile.ts';
import { systemClock } from '../src/shared/clock.ts';
import { connectV201Station } from './support/ocpp-v201-client.ts';
import { createTestDatabaseUrl, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const WEBHOOK_SECRET = 'sandbox-webhook-secret-for-tests';
/** Holds live 20 h here, so every saved-card hold falls into the renewal window (24 h) on the next worker pass. */
const HOLD_TTL_MS = 20 * 3600 * 1000;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = any;
type Received = { headers: Record<string, string | string[] | undefined>; body: string };

describe.skipIf(skip)('payment automation with the SANDBOX provider', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;
  let key: string;
  let hook: Server;
  let hookUrl: string;
  const hookReceived: Received[] = [];
  let hookFailuresLeft = 0;

  const api = async (method: string, path: string, body?: unknown, auth = true) => {
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers: {
        ...(auth && { authorization: `Bearer ${key}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Json };
  };
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await server.payments.worker.runUntilIdle();
      await sandbox.flushWebhooks();
    }
  };
  const tokenize = async (number: string) => {
    const r = sandbox.tokenizeCard({ number, expMonth: 12, expYear: 2034, cvc: '123' });
    if (!r.ok) throw new Error(r.error.message);
    return r.value.paymentMethodRef;
  };
  const db = () => server.database.db;
  const decisions = (idTag: string) =>
    db()
      .selectFrom('authorization_decisions')
      .select(['purpose', 'status', 'reason'])
      .where('id_tag', '=', idTag)
      .orderBy('id')
      .execute();
  const balance = async (code: string) => {
    const rows = await db()
      .selectFrom('ledger_postings as p')
      .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
      .select('p.amount_minor')
      .where('a.code', '=', code)
      .execute();
    return rows.reduce((sum, r) => sum + BigInt(r.amount_minor), 0n);
  };
  const cdrTotal = async (sessionId: string) =>
    (
      await db()
        .selectFrom('cdrs')
        .select('total_incl_vat_minor')
        .where('session_id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).total_incl_vat_minor;

  const remoteStops: { stationId: string; transactionId: number }[] = [];
  /** Each start gets its own second: a repeated start (same time, EVSE and tag) is a station's retry. */
  let startSecond = 0;
  async function station(id: string) {
    const client = new RPCClient({
      endpoint: server.ocppUrl,
      identity: id,
      protocols: ['ocpp1.6'],
      strictMode: false,
      reconnect: false,
    } as ConstructorParameters<typeof RPCClient>[0]);
    client.handle('RemoteStopTransaction', (({ params }: { params: { transactionId: number } }) => {
      remoteStops.push({ stationId: id, transactionId: params.transactionId });
      return { status: 'Accepted' };
    }) as unknown as Parameters<RPCClient['handle']>[1]);
    await client.connect();
    await client.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    return client;
  }
  async function start(client: RPCClient, idTag: string, connectorId = 1) {
    const started = (await client.call('StartTransaction', {
      connectorId,
      idTag,
      meterStart: 1000,
      timestamp: `2026-11-03T10:00:${String(startSecond++ % 60).padStart(2, '0')}.000Z`,
    })) as { transactionId: number; idTagInfo: { status: string } };
    const session = await db()
      .selectFrom('sessions')
      .select('id')
      .where('transaction_id', '=', String(started.transactionId))
      .where('id_tag', '=', idTag)
      .executeTakeFirstOrThrow();
    return {
      status: started.idTagInfo.status,
      transactionId: started.transactionId,
      sessionId: session.id,
      meter: (minute: number, registerWh: number) =>
        client.call('MeterValues', {
          connectorId,
          transactionId: started.transactionId,
          meterValue: [
            {
              timestamp: `2026-11-03T10:${String(minute).padStart(2, '0')}:00.000Z`,
              sampledValue: [{ value: String(registerWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
            },
          ],
        }),
      stop: (meterStop: number, minute = 59) =>
        client.call('StopTransaction', {
          transactionId: started.transactionId,
          meterStop,
          timestamp: `2026-11-03T10:${String(minute).padStart(2, '0')}:00.000Z`,
        }),
    };
  }

  beforeAll(async () => {
    hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        if (hookFailuresLeft > 0) {
          hookFailuresLeft--;
          response.writeHead(503).end('try later');
          return;
        }
        hookReceived.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/voltbill`;
    const url = await createTestDatabaseUrl();
    sandbox = createSandboxProvider({
      clock: systemClock,
      webhookSecret: WEBHOOK_SECRET,
      webhookDelayMs: 1,
      holdTtlMs: HOLD_TTL_MS,
    });
    server = await startServer({
      config: loadConfig({
        VOLTBILL_HOST: '127.0.0.1',
        VOLTBILL_OCPP_PORT: '0',
        VOLTBILL_HTTP_PORT: '0',
        VOLTBILL_LOG_LEVEL: 'silent',
        VOLTBILL_PAYMENT_RETRY_BASE_MS: '1',
        VOLTBILL_PAYMENT_MAX_ATTEMPTS: '2',
        VOLTBILL_RECONCILE_INTERVAL_S: '0',
        VOLTBILL_WALLET_MIN_START_MINOR: '200',
        VOLTBILL_VELOCITY_STARTS_PER_TOKEN_PER_HOUR: '2',
        VOLTBILL_VELOCITY_STARTS_PER_CARD_PER_HOUR: '3',
        VOLTBILL_NOTIFY_MAX_ATTEMPTS: '3',
      }),
      seed: true,
      logger: pino({ level: process.env.VOLTBILL_TEST_LOG ?? 'silent' }),
      database: url === 'memory' ? { kind: 'pglite', dataDir: 'memory' } : { kind: 'postgres', url },
      command: 'test',
      paymentProvider: sandbox,
      startPaymentWorker: false,
    });
    key = server.seeded!.adminApiKey;
  }, 240_000);
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => hook?.close(resolve));
  });

  let endpointSecret: string;

  it('webhook endpoints: admin only, secret shown once and unreadable in a raw dump of the database', async () => {
    const created = await api('POST', '/api/v1/notification-endpoints', { url: hookUrl });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^vbwh_[A-Za-z0-9_-]{43}$/);
    endpointSecret = created.body.secret;
    const listed = await api('GET', '/api/v1/notification-endpoints');
    expect(listed.body.data).toEqual([
      { id: created.body.id, url: hookUrl, eventTypes: [], active: true, createdAt: created.body.createdAt },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(endpointSecret);
    const dump = await db().selectFrom('notification_endpoints').selectAll().execute();
    expect(JSON.stringify(dump)).not.toContain(endpointSecret);
    expect(dump[0]!.secret_enc).toMatch(/^vbe1\./);
    const audit = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'notification-endpoint.create')
      .execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(endpointSecret);
    const insecure = await api('POST', '/api/v1/notification-endpoints', { url: 'http://example.com/hook' });
    expect(insecure.status).toBe(400);
    const unknownType = await api('POST', '/api/v1/notification-endpoints', {
      url: 'https://example.com/hook',
      eventTypes: ['payment.everything'],
    });
    expect(unknownType.status).toBe(400);
  });

  it('wallet: a low balance is refused on 1.6 and 2.0.1 and recorded; enough balance starts', async () => {
    const wallet = await api('POST', '/api/v1/wallets', { idTag: 'DEMO0002', currency: 'EUR' });
    expect(wallet.status).toBe(201);
    const client = await station('DEMO-0002');
    const authorize = (await client.call('Authorize', { idTag: 'DEMO0002' })) as Json;
    expect(authorize.idTagInfo.status).toBe('Blocked');
    const refused = await start(client, 'DEMO0002');
    expect(refused.status).toBe('Blocked');
    await refused.stop(1000, 5);
    const session = await db()
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', refused.sessionId)
      .executeTakeFirstOrThrow();
    expect(session).toMatchObject({ authorization_status: 'Blocked', billing_status: 'NotBillable' });

    const v201 = await connectV201Station(server, 'DEMO-0003');
    await v201.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } });
    await api('POST', '/api/v1/wallets', { idTag: 'DEMO0003', currency: 'EUR' });
    const auth201 = await v201.call('Authorize', { idToken: { idToken: 'DEMO0003', type: 'ISO14443' } });
    // The 2.0.1 Authorize reply carries the payment decision, as 1.6's does.
    expect(auth201.idTokenInfo.status).toBe('Blocked');
    const started201 = await v201.call('TransactionEvent', {
      eventType: 'Started',
      timestamp: '2026-11-03T10:00:00.000Z',
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId: 'W201-1', chargingState: 'Charging' },
      evse: { id: 1, connectorId: 1 },
      idToken: { idToken: 'DEMO0003', type: 'ISO14443' },
      meterValue: [
        {
          timestamp: '2026-11-03T10:00:00.000Z',
          sampledValue: [{ value: 5000, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }],
        },
      ],
    });
    expect(started201.idTokenInfo.status).toBe('Blocked');
    await v201.close();

    expect(await decisions('DEMO0002')).toEqual([
      { purpose: 'authorize', status: 'Blocked', reason: 'InsufficientWalletBalance' },
      { purpose: 'start', status: 'Blocked', reason: 'InsufficientWalletBalance' },
    ]);
    expect(await decisions('DEMO0003')).toEqual([
      { purpose: 'authorize', status: 'Blocked', reason: 'InsufficientWalletBalance' },
      { purpose: 'start', status: 'Blocked', reason: 'InsufficientWalletBalance' },
    ]);
    const listed = await api('GET', '/api/v1/authorization-decisions?idTag=DEMO0002');
    expect(listed.body.data[0]).toMatchObject({
      idTag: 'DEMO0002',
      purpose: 'start',
      status: 'Blocked',
      reason: 'InsufficientWalletBalance',
      detail: 'wallet balance 0 is below the 200 a session needs',
      sessionId: refused.sessionId,
    });
    await client.close();
  });

  it('wallet: a running session is remotely stopped when its running cost reaches the balance', async () => {
    // Top up 5.00 EUR by card, then charge: 5 kWh costs 3.33, 9 kWh costs 5.67 (day tariff, each line rounded incl.
    // 19 % VAT: energy 4.41 × 1.19 = 5.25, session fee 0.35 × 1.19 = 0.42): the worker stops it at the second reading.
    const ref = await tokenize('4242 4242 4242 4242');
    const saved = await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0004', paymentMethodRef: ref });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const wallet = await api('POST', '/api/v1/wallets', { idTag: 'DEMO0004', currency: 'EUR' });
    const topUp = await api('POST', `/api/v1/wallets/${wallet.body.id}/top-ups`, {
      amount: '5.00',
      paymentMethodId: saved.body.paymentMethodId,
    });
    expect(topUp.status).toBe(202);
    await settle();
    expect((await api('GET', `/api/v1/wallets/${wallet.body.id}`)).body.balance).toMatchObject({ minor: '500' });

    const client = await station('DEMO-0004');
    const s = await start(client, 'DEMO0004');
    expect(s.status).toBe('Accepted');
    await s.meter(30, 6000);
    await server.payments.worker.runOnce();
    expect(remoteStops).toEqual([]);
    await s.meter(50, 10_000);
    await server.payments.worker.runOnce();
    expect(remoteStops).toEqual([{ stationId: 'DEMO-0004', transactionId: s.transactionId }]);
    // Asked once: the stop is recorded, a later pass does not ask again.
    await server.payments.worker.runOnce();
    expect(remoteStops).toHaveLength(1);
    const stop = await db()
      .selectFrom('payment_decisions')
      .select(['decision', 'reason'])
      .where('subject_id', '=', s.sessionId)
      .where('decision', '=', 'wallet-exhausted-remote-stop')
      .executeTakeFirstOrThrow();
    expect(stop.reason).toBe('running cost 567 reached the wallet balance 500 EUR');

    await s.stop(10_000, 50);
    await settle();
    // The bill of the same readings is the running cost the stop saw; the wallet pays what it holds.
    expect(await cdrTotal(s.sessionId)).toBe(567n);
    const debit = await db()
      .selectFrom('payments')
      .selectAll()
      .where('session_id', '=', s.sessionId)
      .where('kind', '=', 'wallet_debit')
      .executeTakeFirstOrThrow();
    expect(debit).toMatchObject({ captured_minor: 500n, due_minor: 567n, status: 'failed' });
    expect((await api('GET', `/api/v1/wallets/${wallet.body.id}`)).body.balance).toMatchObject({ minor: '0' });
    expect(await balance(`prepaid_wallets:${wallet.body.id}`)).toBe(0n);
    // Now below the minimum: the next start is refused.
    const next = await start(client, 'DEMO0004', 1);
    expect(next.status).toBe('Blocked');
    await next.stop(1000, 50);
    await client.close();
  });

  it('wallet: a 2.0.1 session is stopped with RequestStopTransaction at the same running cost', async () => {
    const ref = await tokenize('4242 4242 4242 4242');
    const saved = await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0010', paymentMethodRef: ref });
    const wallet = await api('POST', '/api/v1/wallets', { idTag: 'DEMO0010', currency: 'EUR' });
    await api('POST', `/api/v1/wallets/${wallet.body.id}/top-ups`, {
      amount: '5.00',
      paymentMethodId: saved.body.paymentMethodId,
    });
    await settle();
    const v201 = await connectV201Station(server, 'DEMO-0010');
    v201.answer('RequestStopTransaction', () => ({ status: 'Accepted' }));
    await v201.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } });
    const event = (seqNo: number, eventType: string, minute: number, registerWh: number) =>
      v201.call('TransactionEvent', {
        eventType,
        timestamp: `2026-11-03T10:${String(minute).padStart(2, '0')}:00.000Z`,
        triggerReason: eventType === 'Started' ? 'Authorized' : 'MeterValuePeriodic',
        seqNo,
        transactionInfo: { transactionId: 'W201-2', chargingState: 'Charging' },
        evse: { id: 1, connectorId: 1 },
        ...(eventType === 'Started' && { idToken: { idToken: 'DEMO0010', type: 'ISO14443' } }),
        meterValue: [
          {
            timestamp: `2026-11-03T10:${String(minute).padStart(2, '0')}:00.000Z`,
            sampledValue: [
              { value: registerWh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
            ],
          },
        ],
      });
    const started = await event(0, 'Started', 0, 1000);
    expect(started.idTokenInfo.status).toBe('Accepted');
    await event(1, 'Updated', 30, 6000);
    await server.payments.worker.runOnce();
    expect(v201.received.filter((c) => c.method === 'RequestStopTransaction')).toEqual([]);
    await event(2, 'Updated', 50, 10_000);
    await server.payments.worker.runOnce();
    const stop = await v201.nextReceived('RequestStopTransaction');
    expect(stop.params).toEqual({ transactionId: 'W201-2' });
    const session = await db()
      .selectFrom('sessions')
      .select('id')
      .where('transaction_id', '=', 'W201-2')
      .executeTakeFirstOrThrow();
    const decision = await db()
      .selectFrom('payment_decisions')
      .select('reason')
      .where('subject_id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(decision.reason).toBe('running cost 567 reached the wallet balance 500 EUR');
    await v201.close();
  });

  it('velocity: the third start of a paying token within an hour is refused; token refusals are recorded too', async () => {
    // A contract token (monthly statement): velocity limits apply to every token with a payment profile.
    const token = await db()
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', 'DEMO0005')
      .executeTakeFirstOrThrow();
    await db()
      .insertInto('payment_profiles')
      .values({
        id_token_id: token.id,
        operator_id: token.operator_id,
        method: 'invoice',
        payment_method_id: null,
        wallet_id: null,
        hold_minor: null,
      })
      .execute();
    const client = await station('DEMO-0005');
    for (let i = 0; i < 2; i++) {
      const s = await start(client, 'DEMO0005');
      expect(s.status).toBe('Accepted');
      await s.stop(1500);
    }
    const third = await start(client, 'DEMO0005');
    expect(third.status).toBe('Blocked');
    await third.stop(1000);
    expect(await decisions('DEMO0005')).toEqual([
      { purpose: 'start', status: 'Accepted', reason: 'Ok' },
      { purpose: 'start', status: 'Accepted', reason: 'Ok' },
      { purpose: 'start', status: 'Blocked', reason: 'VelocityLimitToken' },
    ]);
    const blocked = await start(client, 'BLOCKED01');
    expect(blocked.status).toBe('Blocked');
    await blocked.stop(1000);
    const unknown = await start(client, 'NOPE1234');
    expect(unknown.status).toBe('Invalid');
    await unknown.stop(1000);
    expect(await decisions('BLOCKED01')).toEqual([{ purpose: 'start', status: 'Blocked', reason: 'IdTokenBlocked' }]);
    expect(await decisions('NOPE1234')).toEqual([{ purpose: 'start', status: 'Invalid', reason: 'UnknownIdTag' }]);
    await client.close();
  });

  it('velocity per card: the card’s starts across its tokens are limited', async () => {
    const ref = await tokenize('4242 4242 4242 4242');
    const saved = await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0006', paymentMethodRef: ref });
    // A second token paid by the same card.
    const other = await db()
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', 'DEMO0007')
      .executeTakeFirstOrThrow();
    await db()
      .insertInto('payment_profiles')
      .values({
        id_token_id: other.id,
        operator_id: other.operator_id,
        method: 'card',
        payment_method_id: saved.body.paymentMethodId,
        wallet_id: null,
        hold_minor: null,
      })
      .execute();
    const client = await station('DEMO-0006');
    const tags = ['DEMO0006', 'DEMO0007', 'DEMO0006', 'DEMO0007'];
    const statuses: string[] = [];
    for (const tag of tags) {
      const s = await start(client, tag);
      statuses.push(s.status);
      await s.stop(1000);
    }
    expect(statuses).toEqual(['Accepted', 'Accepted', 'Accepted', 'Blocked']);
    expect((await decisions('DEMO0007')).at(-1)).toEqual({
      purpose: 'start',
      status: 'Blocked',
      reason: 'VelocityLimitCard',
    });
    await settle();
    await client.close();
  });

  let failedPaymentId: string;
  let dunningSession: string;

  it('failed card: blocked after its authorization fails, refused at the next start, driver notified with a pay link', async () => {
    const customer = await api('POST', '/api/v1/customers', { name: 'Dana Driver', email: 'dana@example.com' });
    expect(customer.status).toBe(201);
    await db().updateTable('id_tokens').set({ customer_id: customer.body.id }).where('uid', '=', 'DEMO0008').execute();
    const ref = await tokenize('4000 0000 0000 0341');
    const saved = await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0008', paymentMethodRef: ref });
    expect(saved.status).toBe(201);
    const client = await station('DEMO-0008');
    const s = await start(client, 'DEMO0008');
    expect(s.status).toBe('Accepted');
    await settle();
    const method = await db()
      .selectFrom('payment_methods')
      .selectAll()
      .where('id', '=', saved.body.paymentMethodId)
      .executeTakeFirstOrThrow();
    expect(method).toMatchObject({ status: 'blocked', blocked_reason: 'CardDeclined' });
    await s.stop(11_000);
    await settle();
    dunningSession = s.sessionId;
    const due = await cdrTotal(s.sessionId);
    expect(due).toBe(625n);
    const dunning = await api('GET', '/api/v1/payments/dunning?status=open');
    expect(dunning.body.data).toHaveLength(1);
    expect(dunning.body.data[0]).toMatchObject({
      status: 'open',
      amountDue: { minor: '625', amount: '6.25' },
      failureCode: 'CardDeclined',
    });
    failedPaymentId = dunning.body.data[0].paymentId;
    const blocks = await api(
      'GET',
      `/api/v1/payments/decisions?decision=card-blocked&subjectId=${saved.body.paymentMethodId}`,
    );
    expect(blocks.body.data).toEqual([
      expect.objectContaining({ subjectType: 'payment_method', decision: 'card-blocked', reason: 'CardDeclined' }),
    ]);

    const refused = await start(client, 'DEMO0008');
    expect(refused.status).toBe('Blocked');
    await refused.stop(1000);
    expect((await decisions('DEMO0008')).at(-1)).toEqual({
      purpose: 'start',
      status: 'Blocked',
      reason: 'PaymentMethodBlocked',
    });

    // Notifications: signed webhooks to the operator (one endpoint refusing once: retried), an e-mail for the driver.
    hookFailuresLeft = 1;
    await server.payments.notifications!.runUntilIdle();
    await db()
      .updateTable('notification_deliveries')
      .set({ next_attempt_at: new Date(0) })
      .where('status', '=', 'pending')
      .execute();
    await server.payments.notifications!.runUntilIdle();
    const types = hookReceived.map((r) => JSON.parse(r.body).type);
    expect(types).toContain('tokens.blocked');
    expect(types).toContain('payment.dunning_notice');
    for (const r of hookReceived) {
      const verified = verifyWebhookSignature({
        rawBody: Buffer.from(r.body),
        header: r.headers['voltbill-signature'] as string,
        secrets: [endpointSecret],
        nowS: Math.floor(Date.now() / 1000),
      });
      expect(verified.ok).toBe(true);
    }
    const notice = JSON.parse(hookReceived.find((r) => JSON.parse(r.body).type === 'payment.dunning_notice')!.body);
    expect(notice.data).toMatchObject({
      paymentId: failedPaymentId,
      amount: { minor: '625', amount: '6.25', currency: 'EUR' },
      failureCode: 'CardDeclined',
    });
    expect(notice.data.payUrl).toBe(`${server.httpUrl}/pay-invoice/${notice.data.payToken}`);
    const deliveries = await db().selectFrom('notification_deliveries').selectAll().execute();
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    expect(deliveries.some((d) => d.attempts === 2)).toBe(true);
    const mail = await api('GET', '/api/v1/email-outbox');
    const dunningMail = mail.body.data.find((m: Json) => m.subject === 'Payment failed: 6.25 EUR due');
    expect(dunningMail).toMatchObject({ to: 'dana@example.com', status: 'pending' });
    expect(dunningMail.text).toContain(notice.data.payUrl);
    const rawMail = await db().selectFrom('email_outbox').selectAll().execute();
    expect(JSON.stringify(rawMail, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('dana@');
    await client.close();
  });

  it('dunning: the pay link shows the amount, takes a new card, marks the invoice paid, books it and unblocks', async () => {
    const notice = hookReceived.map((r) => JSON.parse(r.body)).find((b) => b.type === 'payment.dunning_notice');
    const token = notice.data.payToken as string;
    // The link in the notice opens the driver's page (strict policy, the SANDBOX card frame, no inline script).
    const page = await fetch(notice.data.payUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('src="/sandbox/hosted-fields"');
    expect(html).not.toMatch(/<script>/);
    const shown = await api('GET', `/api/v1/pay-invoice/${token}`, undefined, false);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ status: 'open', amountDue: { minor: '625', amount: '6.25' }, sandbox: true });
    const forged = await api('GET', `/api/v1/pay-invoice/${token.slice(0, -2)}xx`, undefined, false);
    expect(forged.status).toBe(401);

    const declined = await api(
      'POST',
      `/api/v1/pay-invoice/${token}`,
      { paymentMethodRef: await tokenize('4000 0000 0000 0002') },
      false,
    );
    expect(declined.status).toBe(402);
    const clearingBefore = await balance('provider_clearing:sandbox');
    const paid = await api(
      'POST',
      `/api/v1/pay-invoice/${token}`,
      { paymentMethodRef: await tokenize('4242 4242 4242 4242') },
      false,
    );
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'captured', paid: { minor: '625' }, dunning: 'paid' });
    const again = await api(
      'POST',
      `/api/v1/pay-invoice/${token}`,
      { paymentMethodRef: await tokenize('4242 4242 4242 4242') },
      false,
    );
    expect(again.status).toBe(409);
    expect(await balance('provider_clearing:sandbox')).toBe(clearingBefore + 625n);
    const state = await api('GET', '/api/v1/payments/dunning?status=paid');
    expect(state.body.data[0]).toMatchObject({
      paymentId: failedPaymentId,
      status: 'paid',
      paidByPaymentId: paid.body.paymentId,
    });
    const method = await db()
      .selectFrom('payment_methods as m')
      .innerJoin('payment_profiles as pp', 'pp.payment_method_id', 'm.id')
      .innerJoin('id_tokens as t', 't.id', 'pp.id_token_id')
      .select(['m.status', 'm.failure_count'])
      .where('t.uid', '=', 'DEMO0008')
      .executeTakeFirstOrThrow();
    expect(method).toEqual({ status: 'active', failure_count: 0 });
    // The invoice of the session is paid in reconciliation.
    await sandbox.flushWebhooks();
    const report = await reconcile(db(), systemClock);
    const invoice = await db()
      .selectFrom('invoice_sessions')
      .select('invoice_id')
      .where('session_id', '=', dunningSession)
      .executeTakeFirstOrThrow();
    expect(report.differences.filter((d) => JSON.stringify(d).includes(invoice.invoice_id))).toEqual([]);
    await server.payments.notifications!.runUntilIdle();
    const types = hookReceived.map((r) => JSON.parse(r.body).type);
    expect(types).toContain('payment.receipt');
    expect(types).toContain('tokens.unblocked');
  });

  let capturedPaymentId: string;

  it('holds are renewed in place before they expire, and the renewed hold is captured', async () => {
    const ref = await tokenize('4242 4242 4242 4242');
    await api('POST', '/api/v1/payments/methods', { idTag: 'DEMO0009', paymentMethodRef: ref });
    const client = await station('DEMO-0009');
    const s = await start(client, 'DEMO0009');
    expect(s.status).toBe('Accepted');
    await server.payments.worker.runOnce(); // places the hold
    await server.payments.worker.runOnce(); // the hold expires in 20 h < 24 h: renewal
    await server.payments.worker.runUntilIdle();
    const [hold] = await db().selectFrom('payments').selectAll().where('session_id', '=', s.sessionId).execute();
    expect(hold!.renewed_from_provider_payment_id).not.toBeNull();
    expect(hold!.provider_payment_id).not.toBe(hold!.renewed_from_provider_payment_id);
    const old = await sandbox.getStatus({
      idempotencyKey: 'x',
      providerPaymentId: hold!.renewed_from_provider_payment_id!,
    });
    expect(old.ok && old.value.status).toBe('voided');
    const fresh = await sandbox.getStatus({ idempotencyKey: 'x', providerPaymentId: hold!.provider_payment_id! });
    expect(fresh.ok && fresh.value).toMatchObject({ status: 'authorized', authorizedMinor: 5000n });
    // Not renewed again on the next pass (it was just renewed).
    await server.payments.worker.runUntilIdle();
    const same = await db().selectFrom('payments').selectAll().where('id', '=', hold!.id).executeTakeFirstOrThrow();
    expect(same.provider_payment_id).toBe(hold!.provider_payment_id);
    await s.stop(11_000);
    await settle();
    const paid = await db().selectFrom('payments').selectAll().where('id', '=', hold!.id).executeTakeFirstOrThrow();
    expect(paid).toMatchObject({ status: 'captured', captured_minor: 625n });
    capturedPaymentId = paid.id;
    await client.close();
  });

  it('disputes: open blocks the tokens, lost gets a credit note and a ledger transfer, repeats change nothing', async () => {
    const payment = await db()
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', capturedPaymentId)
      .executeTakeFirstOrThrow();
    const disputeId = sandbox.openDispute(payment.provider_payment_id!, { reason: 'fraudulent' });
    await sandbox.flushWebhooks();
    const open = await api('GET', '/api/v1/payments/disputes');
    expect(open.body.data).toHaveLength(1);
    expect(open.body.data[0]).toMatchObject({
      providerDisputeId: disputeId,
      status: 'open',
      amount: { minor: '625' },
      creditNoteId: null,
    });
    const client = await station('DEMO-0009');
    const refused = await start(client, 'DEMO0009');
    expect(refused.status).toBe('Blocked');
    await refused.stop(1000);
    expect((await decisions('DEMO0009')).at(-1)).toEqual({
      purpose: 'start',
      status: 'Blocked',
      reason: 'DisputeOpen',
    });

    const clearingBefore = await balance('provider_clearing:sandbox');
    sandbox.closeDispute(disputeId, 'lost');
    sandbox.closeDispute(disputeId, 'lost'); // a second event about the same decision
    sandbox.closeDispute(disputeId, 'won'); // and a contradicting late one: state only moves forward
    await sandbox.flushWebhooks();
    const lost = await api('GET', '/api/v1/payments/disputes');
    expect(lost.body.data[0]).toMatchObject({ status: 'lost' });
    expect(lost.body.data[0].creditNoteId).not.toBeNull();
    const note = await db()
      .selectFrom('invoices')
      .select(['kind', 'id'])
      .where('id', '=', lost.body.data[0].creditNoteId)
      .executeTakeFirstOrThrow();
    expect(note.kind).toBe('credit_note');
    expect(await balance('provider_clearing:sandbox')).toBe(clearingBefore - 625n);
    const transfers = await db()
      .selectFrom('ledger_transfers')
      .select('idempotency_key')
      .where('idempotency_key', 'like', 'dispute:%')
      .execute();
    expect(transfers).toHaveLength(1);
    // Closed: the token starts again.
    const next = await start(client, 'DEMO0009');
    expect(next.status).toBe('Accepted');
    await next.stop(1000);

    // Out of order: a dispute whose `closed` arrives before its `created`.
    const other = await db()
      .selectFrom('payments')
      .selectAll()
      .where('status', '=', 'captured')
      .where('kind', '=', 'dunning')
      .executeTakeFirstOrThrow();
    sandbox.setFaults({
      latencyMs: 0,
      timeoutRate: 0,
      errorRate: 0,
      lostResponseRate: 0,
      webhookDropRate: 0,
      webhookDuplicateRate: 1,
      webhookReorder: true,
      seed: 1,
    });
    const late = sandbox.openDispute(other.provider_payment_id!);
    sandbox.closeDispute(late, 'won');
    await sandbox.flushWebhooks();
    sandbox.setFaults({
      latencyMs: 0,
      timeoutRate: 0,
      errorRate: 0,
      lostResponseRate: 0,
      webhookDropRate: 0,
      webhookDuplicateRate: 0,
      webhookReorder: false,
      seed: 1,
    });
    const disputes = await api('GET', '/api/v1/payments/disputes');
    expect(disputes.body.data.find((d: Json) => d.providerDisputeId === late)).toMatchObject({
      status: 'won',
      creditNoteId: null,
    });
    await server.payments.notifications!.runUntilIdle();
    const closedNotices = hookReceived.map((r) => JSON.parse(r.body)).filter((b) => b.type === 'dispute.closed');
    expect(closedNotices.map((b) => b.data.status).sort()).toEqual(['lost', 'won']);
    await client.close();
  });
});
