/**
 * The payment worker works several outbox items at once (VOLTBILL_PAYMENT_WORKER_CONCURRENCY): a provider call
 * waits on the network, and one call at a time caps a node at a few per second. Never more than the setting,
 * every hold placed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { claimNextOutboxItem, enqueueOutbox, finishOutboxItem } from '../src/payments/worker/outbox-store.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

const SESSIONS = 7;
const CONCURRENCY = 3;
/** A provider call waits until this many are in flight (or this long), so that overlapping calls do overlap. */
const BARRIER_TIMEOUT_MS = 3_000;

describe('payment worker concurrency', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;
  const clock = fixedClock(new Date('2026-11-26T12:00:00Z'));
  let inFlight = 0;
  let maxInFlight = 0;
  let waiting: (() => void)[] = [];

  beforeAll(async () => {
    sandbox = createSandboxProvider({ clock, webhookSecret: 'concurrency-test-webhook-secret', webhookDelayMs: 1 });
    // The sandbox, with its holds held at a barrier: a call returns once CONCURRENCY calls are in flight, or after
    // the timeout (the last calls of a pass, fewer than CONCURRENCY).
    const provider = new Proxy(sandbox, {
      get(target, property, receiver) {
        if (property !== 'authorize') return Reflect.get(target, property, receiver);
        return async (input: Parameters<PaymentProvider['authorize']>[0]) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise<void>((resolve) => {
            if (inFlight >= CONCURRENCY) {
              for (const release of waiting) release();
              waiting = [];
              resolve();
              return;
            }
            waiting.push(resolve);
            setTimeout(resolve, BARRIER_TIMEOUT_MS);
          });
          try {
            return await target.authorize(input);
          } finally {
            inFlight--;
          }
        };
      },
    });
    server = await startTestServer(
      { VOLTBILL_PAYMENT_WORKER_CONCURRENCY: String(CONCURRENCY), VOLTBILL_RECONCILE_INTERVAL_S: '0' },
      { clock, paymentProvider: provider },
    );
  }, 240_000);
  afterAll(async () => {
    await server?.close();
  });

  it(`places ${SESSIONS} holds with at most ${CONCURRENCY} provider calls at once, each once`, async () => {
    const key = server.seeded!.adminApiKey;
    const stations: Station[] = [];
    for (let i = 1; i <= SESSIONS; i++) {
      const idTag = `DEMO${String(i).padStart(4, '0')}`;
      const ref = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123' });
      if (!ref.ok) throw new Error(ref.error.message);
      const saved = await fetch(`${server.httpUrl}/api/v1/payments/methods`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ idTag, paymentMethodRef: ref.value.paymentMethodRef }),
      });
      expect(saved.status).toBe(201);
      const client = await connectStation(server, `DEMO-${String(i).padStart(4, '0')}`);
      await client.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
      const started = (await client.call('StartTransaction', {
        connectorId: 1,
        idTag,
        meterStart: 0,
        timestamp: '2026-11-26T11:00:00.000Z',
      })) as { idTagInfo: { status: string } };
      expect(started.idTagInfo.status).toBe('Accepted');
      stations.push(client);
    }

    // One pass: the hold sweep queues 7 authorizations, the lanes work them.
    const processed = await server.payments.worker.runOnce();
    expect(processed).toBe(SESSIONS);
    expect(maxInFlight).toBe(CONCURRENCY);

    const db = server.database.db;
    const payments = await db.selectFrom('payments').select(['status', 'authorized_minor']).execute();
    expect(payments).toHaveLength(SESSIONS);
    expect(payments.every((p) => p.status === 'authorized' && p.authorized_minor === 5000n)).toBe(true);
    const outbox = await db.selectFrom('payment_outbox').select(['action', 'status', 'attempts']).execute();
    expect(outbox.map((o) => [o.action, o.status, o.attempts])).toEqual(
      Array.from({ length: SESSIONS }, () => ['authorize', 'done', 1]),
    );
    for (const client of stations) await client.close({ force: true });
  });

  it("claims skip the payments the node's lanes are working", async () => {
    const db = server.database.db;
    const [p1, p2] = (await db.selectFrom('payments').select('id').orderBy('id').limit(2).execute()).map((p) => p.id);
    const due = new Date(clock.now().getTime() - 1000);
    await enqueueOutbox(db, { paymentId: p1!, action: 'void', idempotencyKey: 'test:a', notBefore: due });
    await enqueueOutbox(db, { paymentId: p1!, action: 'refund', idempotencyKey: 'test:b', notBefore: due });
    await enqueueOutbox(db, { paymentId: p2!, action: 'void', idempotencyKey: 'test:c', notBefore: due });
    const claim = async (busy: string[]) => (await claimNextOutboxItem(db, clock.now(), 60_000, busy))?.idempotency_key;

    expect(await claim([])).toBe('test:a');
    // test:b is due next, but a lane works its payment.
    expect(await claim([p1!])).toBe('test:c');
    expect(await claim([p1!, p2!])).toBeUndefined();
    const a = await db
      .selectFrom('payment_outbox')
      .select('id')
      .where('idempotency_key', '=', 'test:a')
      .executeTakeFirstOrThrow();
    await finishOutboxItem(db, a.id, 'done', clock.now());
    expect(await claim([p2!])).toBe('test:b');
    await db.updateTable('payment_outbox').set({ status: 'done' }).where('idempotency_key', 'like', 'test:%').execute();
  });
});
