/**
 * Fault injection: the SANDBOX provider times out or answers 5xx on 20% of calls, loses 10% of responses after
 * moving the money, drops, duplicates and reorders webhooks, and a worker is killed between its provider call and
 * recording the outcome. Every session must still end paid exactly once, with the ledger reconciled.
 */
import { RPCClient } from 'ocpp-rpc';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { type RunningServer, startServer } from '../src/main.ts';
import { NO_FAULTS, type SandboxFaults } from '../src/payments/sandbox/sandbox-faults.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { claimNextOutboxItem } from '../src/payments/worker/outbox-store.ts';
import { reconcile } from '../src/reconcile/reconcile.ts';
import { fixedClock } from '../src/shared/clock.ts';
import type { CurrencyCode } from '../src/shared/money.ts';
import { createTestDatabaseUrl, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const SESSIONS = 10;
const FAULTS: SandboxFaults = {
  latencyMs: 0,
  timeoutRate: 0.1,
  errorRate: 0.1,
  lostResponseRate: 0.1,
  webhookDropRate: 0.2,
  webhookDuplicateRate: 0.3,
  webhookReorder: true,
  seed: 20_261_126,
};

describe.skipIf(skip)('payments under injected faults', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;
  const clock = fixedClock(new Date('2026-11-26T12:00:00Z'));

  beforeAll(async () => {
    const url = await createTestDatabaseUrl();
    sandbox = createSandboxProvider({ clock, webhookSecret: 'fault-test-webhook-secret', webhookDelayMs: 1 });
    server = await startServer({
      config: loadConfig({
        VOLTBILL_HOST: '127.0.0.1',
        VOLTBILL_OCPP_PORT: '0',
        VOLTBILL_HTTP_PORT: '0',
        VOLTBILL_LOG_LEVEL: 'silent',
        VOLTBILL_PAYMENT_RETRY_BASE_MS: '1000',
        VOLTBILL_PAYMENT_MAX_ATTEMPTS: '100',
        VOLTBILL_RECONCILE_INTERVAL_S: '0',
      }),
      seed: true,
      logger: pino({ level: process.env.VOLTBILL_TEST_LOG ?? 'silent' }),
      clock,
      database: url === 'memory' ? { kind: 'pglite', dataDir: 'memory' } : { kind: 'postgres', url },
      command: 'test',
      paymentProvider: sandbox,
      startPaymentWorker: false,
    });
    // Starting PGlite and migrating takes long on a busy machine.
  }, 240_000);
  afterAll(async () => {
    await server?.close();
  });

  /** Worker passes with the clock moving on, until no provider call is left to make. */
  async function drain() {
    for (let pass = 0; pass < 400; pass++) {
      await server.payments.worker.runOnce();
      await sandbox.flushWebhooks();
      const pending = await server.database.db
        .selectFrom('payment_outbox')
        .select('id')
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (!pending) return pass;
      clock.advanceMs(5_000);
    }
    throw new Error('the outbox did not drain');
  }

  it('ends with every session paid exactly once and the ledger reconciled', async () => {
    const db = server.database.db;
    const key = server.seeded!.adminApiKey;
    // Cards are saved while the provider is healthy (saving is interactive: the driver retries by hand).
    for (let i = 1; i <= SESSIONS; i++) {
      const ref = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123' });
      if (!ref.ok) throw new Error(ref.error.message);
      const saved = await fetch(`${server.httpUrl}/api/v1/payments/methods`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          idTag: `DEMO${String(i).padStart(4, '0')}`,
          paymentMethodRef: ref.value.paymentMethodRef,
        }),
      });
      expect(saved.status).toBe(201);
    }
    sandbox.setFaults(FAULTS);

    const stations: RPCClient[] = [];
    const stops: (() => Promise<unknown>)[] = [];
    for (let i = 1; i <= SESSIONS; i++) {
      const client = new RPCClient({
        endpoint: server.ocppUrl,
        identity: `DEMO-${String(i).padStart(4, '0')}`,
        protocols: ['ocpp1.6'],
        strictMode: false,
        reconnect: false,
      } as ConstructorParameters<typeof RPCClient>[0]);
      await client.connect();
      await client.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
      stations.push(client);
      const started = (await client.call('StartTransaction', {
        connectorId: 1,
        idTag: `DEMO${String(i).padStart(4, '0')}`,
        meterStart: 0,
        timestamp: '2026-11-25T10:00:00.000Z',
      })) as { transactionId: number };
      stops.push(() =>
        client.call('StopTransaction', {
          transactionId: started.transactionId,
          meterStop: 1000 * i + 123,
          timestamp: '2026-11-25T11:00:00.000Z',
        }),
      );
    }
    await drain();
    for (const stop of stops) await stop();

    // A worker claims a settle item, captures at the provider, and dies before recording the outcome.
    const claimed = await claimNextOutboxItem(db, clock.now(), 60_000);
    expect(claimed?.action).toBe('settle');
    const hold = await db
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', claimed!.payment_id)
      .executeTakeFirstOrThrow();
    sandbox.setFaults(NO_FAULTS);
    const dead = await sandbox.capture({
      idempotencyKey: claimed!.idempotency_key,
      providerPaymentId: hold.provider_payment_id!,
      amount: { minor: claimed!.amount_minor!, currency: 'EUR' as CurrencyCode },
    });
    expect(dead.ok).toBe(true);
    sandbox.setFaults({ ...FAULTS, seed: FAULTS.seed + 1 });

    await drain();
    sandbox.setFaults(NO_FAULTS);
    await sandbox.flushWebhooks();

    const sessions = await db
      .selectFrom('sessions as s')
      .innerJoin('cdrs as c', 'c.session_id', 's.id')
      .select(['s.id', 'c.total_incl_vat_minor as total'])
      .execute();
    expect(sessions).toHaveLength(SESSIONS);
    let sum = 0n;
    for (const s of sessions) {
      const rows = await db.selectFrom('payments').selectAll().where('session_id', '=', s.id).execute();
      expect(rows.map((r) => [r.kind, r.status, r.captured_minor])).toEqual([['session', 'captured', s.total]]);
      const atProvider = await sandbox.getStatus({ idempotencyKey: `hold:${s.id}` });
      expect(atProvider.ok && atProvider.value.capturedMinor).toBe(s.total);
      sum += s.total;
    }
    const outbox = await db.selectFrom('payment_outbox').select(['status', 'attempts']).execute();
    expect(outbox.every((o) => o.status === 'done')).toBe(true);
    // The faults did happen: some calls needed more than one attempt.
    expect(outbox.some((o) => o.attempts > 1)).toBe(true);
    const clearing = await db
      .selectFrom('ledger_postings as p')
      .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
      .select('p.amount_minor')
      .where('a.code', '=', 'provider_clearing:sandbox')
      .execute();
    expect(clearing.reduce((t, r) => t + BigInt(r.amount_minor), 0n)).toBe(sum);
    const captureTransfers = await db
      .selectFrom('ledger_transfers')
      .select('id')
      .where('cause_type', '=', 'capture')
      .execute();
    expect(captureTransfers).toHaveLength(SESSIONS);
    const duplicates = await db.selectFrom('payment_webhook_events').select('event_id').execute();
    expect(duplicates.length).toBeGreaterThan(0);

    const report = await reconcile(db, clock);
    expect(report.differences).toEqual([]);
    expect(report.clean).toBe(true);
    for (const client of stations) await client.close({ force: true });
  });
});
