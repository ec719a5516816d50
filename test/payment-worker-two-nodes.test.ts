/**
 * The payment worker on two nodes of one PostgreSQL, against one card network: every pass of node A runs beside a
 * pass of node B, so their hold sweeps race to create the same payments and their lanes race to claim the same
 * outbox items. Every hold is placed once, every session captured once at its invoice's total, the ledger books
 * each capture once (node A's captures race node B's handling of the provider's webhooks, which all go to node B),
 * no pass fails or logs an error, and both nodes did provider work.
 *
 * This is the exactly-once of the sweeps across nodes (unique keys on payments and outbox items, leased claims),
 * which the reconciliation's per-period job claim does not cover; the two-node crash test covers it under kills.
 * PostgreSQL only: the embedded database is one process.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { type RunningServer, startServer } from '../src/main.ts';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { checkInvoicedSessions, checkLedgerCauses } from './chaos/chaos-checks.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';
import { connectStation, type Station } from './support/test-server.ts';

const skip =
  testBackend === 'pglite' ? 'two nodes need PostgreSQL; embedded PGlite is one process' : postgresSkipReason();
/** The demo seed's stations and tokens (DEMO-0001…DEMO-0010, DEMO0001…DEMO0010). */
const SESSIONS = 10;
/** A provider call waits (at most this long) until the other node has one in flight too, so both nodes work. */
const PAIRING_TIMEOUT_MS = 2_000;
const NODES = ['a', 'b'] as const;
type NodeName = (typeof NODES)[number];

describe.skipIf(skip)('payment worker on two nodes of one PostgreSQL', () => {
  const clock = fixedClock(new Date('2026-11-26T12:00:00Z'));
  const nodes = new Map<NodeName, RunningServer>();
  const errorLines: string[] = [];
  let sandbox: SandboxProvider;
  /** Provider calls per node and method, with their idempotency keys. */
  const calls: { node: NodeName; method: string; key: string }[] = [];
  const inFlight = new Map<NodeName, number>([
    ['a', 0],
    ['b', 0],
  ]);
  let waiting: (() => void)[] = [];

  /** The shared card network as one node sees it: its calls counted and paired with the other node's. */
  const providerOf = (node: NodeName): PaymentProvider =>
    new Proxy(sandbox, {
      get(target, property, receiver) {
        const method = String(property);
        if (method !== 'authorize' && method !== 'capture') return Reflect.get(target, property, receiver);
        return async (input: { idempotencyKey: string }) => {
          calls.push({ node, method, key: input.idempotencyKey });
          inFlight.set(node, (inFlight.get(node) ?? 0) + 1);
          await new Promise<void>((resolve) => {
            const other = node === 'a' ? 'b' : 'a';
            if ((inFlight.get(other) ?? 0) > 0) {
              for (const release of waiting) release();
              waiting = [];
              resolve();
              return;
            }
            // Released by the other node's next call, or alone after the timeout (which is then cleared).
            const timer = setTimeout(release, PAIRING_TIMEOUT_MS);
            function release() {
              clearTimeout(timer);
              resolve();
            }
            waiting.push(release);
          });
          try {
            // biome-ignore lint/suspicious/noExplicitAny: the proxied method's own input type.
            return await (target[method as 'authorize' | 'capture'] as any)(input);
          } finally {
            inFlight.set(node, (inFlight.get(node) ?? 0) - 1);
          }
        };
      },
    });

  beforeAll(async () => {
    const url = await createTestDatabaseUrl();
    sandbox = createSandboxProvider({ clock, webhookSecret: 'two-nodes-webhook-secret', webhookDelayMs: 1 });
    // Errors either node logs (a failing extra sweep or a failed webhook is logged, not thrown) must stay empty; a
    // failing hold sweep or claim rejects the pass itself, which fails the test.
    const logger = pino({ level: 'error' }, { write: (line: string) => void errorLines.push(line) });
    for (const node of NODES) {
      const server = await startServer({
        config: loadConfig({
          VOLTBILL_HOST: '127.0.0.1',
          VOLTBILL_OCPP_PORT: '0',
          VOLTBILL_HTTP_PORT: '0',
          VOLTBILL_LOG_LEVEL: 'silent',
          VOLTBILL_NODE_ID: `node_${node}`,
          VOLTBILL_RECONCILE_INTERVAL_S: '0',
          // One lane per node: the pairing above then alternates the nodes item by item.
          VOLTBILL_PAYMENT_WORKER_CONCURRENCY: '1',
        }),
        // Node A migrates and seeds; node B starts on the same database.
        seed: node === 'a',
        logger,
        clock,
        database: { kind: 'postgres', url: url as string },
        command: 'test',
        paymentProvider: providerOf(node),
        startPaymentWorker: false,
      });
      nodes.set(node, server);
    }
  }, 240_000);
  const stations: Station[] = [];
  afterAll(async () => {
    for (const station of stations) await station.close({ force: true }).catch(() => undefined);
    // Node B first: it receives the shared provider's webhooks, and node A's close also closes the provider.
    for (const name of [...NODES].reverse()) await nodes.get(name)?.close();
  });

  const node = (name: NodeName) => nodes.get(name) as RunningServer;

  /** One pass of each node's worker at the same moment, with the clock moving on, until nothing is pending. */
  async function drainBoth(): Promise<number[]> {
    const processed = [0, 0];
    for (let pass = 0; pass < 100; pass++) {
      const [a, b] = await Promise.all([node('a').payments.worker.runOnce(), node('b').payments.worker.runOnce()]);
      processed[0] = (processed[0] ?? 0) + a;
      processed[1] = (processed[1] ?? 0) + b;
      await sandbox.flushWebhooks();
      const pending = await node('a')
        .database.db.selectFrom('payment_outbox')
        .select('id')
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (!pending && a + b === 0) return processed;
      clock.advanceMs(5_000);
    }
    throw new Error('the payment outbox did not drain');
  }

  it('places every hold once and captures every session once, with both nodes working', async () => {
    const db = node('a').database.db;
    const key = node('a').seeded?.adminApiKey as string;
    for (let i = 1; i <= SESSIONS; i++) {
      const ref = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123' });
      if (!ref.ok) throw new Error(ref.error.message);
      const saved = await fetch(`${node('a').httpUrl}/api/v1/payments/methods`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          idTag: `DEMO${String(i).padStart(4, '0')}`,
          paymentMethodRef: ref.value.paymentMethodRef,
        }),
      });
      expect(saved.status).toBe(201);
    }

    // Stations spread over the nodes as behind a load balancer: odd ones on A, even ones on B.
    const started: { station: Station; transactionId: number }[] = [];
    for (let i = 1; i <= SESSIONS; i++) {
      const station = await connectStation(node(i % 2 === 1 ? 'a' : 'b'), `DEMO-${String(i).padStart(4, '0')}`);
      stations.push(station);
      await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
      const start = await station.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', {
        connectorId: 1,
        idTag: `DEMO${String(i).padStart(4, '0')}`,
        meterStart: 0,
        timestamp: '2026-11-26T11:00:00.000Z',
      });
      expect(start.idTagInfo.status).toBe('Accepted');
      started.push({ station, transactionId: start.transactionId });
    }

    // Both nodes' hold sweeps find the same 10 running sessions at once.
    const [holdsOnA, holdsOnB] = await drainBoth();
    expect((holdsOnA ?? 0) + (holdsOnB ?? 0)).toBe(SESSIONS);
    const held = await db
      .selectFrom('payments')
      .select(['status', 'authorized_minor'])
      .where('kind', '=', 'session')
      .execute();
    expect(held).toHaveLength(SESSIONS);
    expect(held.every((p) => p.status === 'authorized' && p.authorized_minor === 5000n)).toBe(true);

    for (const [n, { station, transactionId }] of started.entries()) {
      await station.call('StopTransaction', {
        transactionId,
        meterStop: 1000 * (n + 1) + 123,
        timestamp: '2026-11-26T11:30:00.000Z',
      });
    }
    const [capturesOnA, capturesOnB] = await drainBoth();
    expect((capturesOnA ?? 0) + (capturesOnB ?? 0)).toBe(SESSIONS);

    // At the card network: one hold and one capture per session, each under its own key, none repeated.
    for (const method of ['authorize', 'capture']) {
      const made = calls.filter((call) => call.method === method);
      expect(made).toHaveLength(SESSIONS);
      expect(new Set(made.map((call) => call.key)).size).toBe(SESSIONS);
      // Both nodes called the provider: the race above is real, not one node doing everything.
      for (const name of NODES) expect(made.some((call) => call.node === name)).toBe(true);
    }

    // In the database: each session's payment captured once, at its invoice's total, the outbox worked once.
    const paid = await db
      .selectFrom('payments as p')
      .innerJoin('invoices as i', 'i.id', 'p.invoice_id')
      .select(['p.status', 'p.captured_minor', 'i.total_incl_vat_minor'])
      .where('p.kind', '=', 'session')
      .execute();
    expect(paid).toHaveLength(SESSIONS);
    for (const payment of paid) {
      expect(payment.status).toBe('captured');
      expect(payment.captured_minor).toBe(payment.total_incl_vat_minor);
    }
    const outbox = await db.selectFrom('payment_outbox').select(['status', 'attempts']).execute();
    expect(outbox.length).toBeGreaterThanOrEqual(2 * SESSIONS);
    expect(outbox.filter((item) => item.status !== 'done' || item.attempts !== 1)).toEqual([]);

    // The ledger and invoices as the crash test checks them: one transfer per billed session and per capture.
    for (const check of [...(await checkLedgerCauses(db)), ...(await checkInvoicedSessions(db))]) {
      expect(check, check.detail).toMatchObject({ ok: true });
    }
    expect(errorLines).toEqual([]);
  });
});
