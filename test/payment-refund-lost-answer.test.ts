/**
 * A refund whose answer is lost (made at the provider, the response never came) is settled by a status query, which
 * says how much the payment has refunded but not by which refund. The worker then asks the provider for the refund
 * made under its key (`findRefund`), so that the refund's row carries the provider's refund id as it does when the
 * answer arrives: support finds it at the provider. Before 2026-11-29 such a refund was booked with no id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { saveCardThroughApi } from './support/card-profile.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

describe('a refund whose answer was lost', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;
  let station: Station;
  const clock = fixedClock(new Date('2026-11-26T12:00:00Z'));
  /** Refunds are made at the provider, then answered with a timeout (the answer lost). */
  let loseRefundAnswers = false;
  const calls: string[] = [];

  beforeAll(async () => {
    sandbox = createSandboxProvider({ clock, webhookSecret: 'lost-refund-test-webhook-secret', webhookDelayMs: 1 });
    const provider = new Proxy(sandbox, {
      get(target, property, receiver) {
        if (property === 'refund') {
          return async (input: Parameters<PaymentProvider['refund']>[0]) => {
            calls.push('refund');
            const made = await target.refund(input);
            return loseRefundAnswers && made.ok
              ? { ok: false, error: { code: 'Timeout', message: 'no answer in time (test)' } }
              : made;
          };
        }
        if (property === 'getStatus' || property === 'findRefund') calls.push(property);
        return Reflect.get(target, property, receiver);
      },
    }) as PaymentProvider;
    server = await startTestServer({ VOLTBILL_RECONCILE_INTERVAL_S: '0' }, { clock, paymentProvider: provider });
    await saveCardThroughApi(server, sandbox, 'DEMO0001');
    station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
  }, 240_000);
  afterAll(async () => {
    await station?.close({ force: true });
    await server?.close();
  });

  async function api(method: string, path: string, body: unknown) {
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.seeded!.adminApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('stores the provider’s refund id found by its key, and books the refund once', async () => {
    const db = server.database.db;
    const started = (await station.call('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 0,
      timestamp: '2026-11-26T11:00:00.000Z',
    })) as { transactionId: number };
    await server.payments.worker.runUntilIdle(); // the hold
    await station.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 10_000,
      timestamp: '2026-11-26T11:30:00.000Z',
    });
    await server.payments.worker.runUntilIdle(); // the capture
    const payment = await db.selectFrom('payments').select(['id', 'status']).executeTakeFirstOrThrow();
    expect(payment.status).toBe('captured');

    // One refund answered, one whose answer is lost.
    for (const lose of [false, true]) {
      loseRefundAnswers = lose;
      calls.length = 0;
      // The request kicks the worker (a pass of its own here, the loops not running); the pass after it waits for it.
      const asked = await api('POST', `/api/v1/payments/${payment.id}/refunds`, { amount: '1.00', reason: 'goodwill' });
      expect(asked.status).toBe(202);
      await server.payments.worker.runUntilIdle();
      expect(calls).toEqual(lose ? ['refund', 'getStatus', 'findRefund'] : ['refund']);
    }
    loseRefundAnswers = false;
    const refunds = await db
      .selectFrom('payment_refunds as r')
      .innerJoin('payment_outbox as o', 'o.refund_id', 'r.id')
      .select(['r.status', 'r.amount_minor', 'r.provider_refund_id', 'o.idempotency_key', 'o.attempts'])
      .orderBy('r.created_at')
      .orderBy('o.id')
      .execute();
    expect(refunds.map((r) => [r.status, r.amount_minor, r.attempts])).toEqual([
      ['succeeded', 100n, 1],
      ['succeeded', 100n, 1],
    ]);
    // Each row carries the id the provider gave its refund (asked of the provider directly here).
    for (const r of refunds) {
      const atProvider = await sandbox.findRefund({
        idempotencyKey: r.idempotency_key,
        providerPaymentId: (await db
          .selectFrom('payments')
          .select('provider_payment_id')
          .where('id', '=', payment.id)
          .executeTakeFirstOrThrow())!.provider_payment_id!,
      });
      expect(atProvider.ok && atProvider.value?.refundId).toMatch(/^re_/);
      expect(r.provider_refund_id).toBe(atProvider.ok ? atProvider.value?.refundId : 'not found');
    }
    expect(refunds[0]!.provider_refund_id).not.toBe(refunds[1]!.provider_refund_id);
    const after = await db
      .selectFrom('payments')
      .select(['status', 'refunded_minor'])
      .where('id', '=', payment.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual({ status: 'partially_refunded', refunded_minor: 200n });
  });
});
