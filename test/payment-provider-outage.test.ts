/**
 * A payment provider that is down (every call unanswered, the status queries too) is the provider's trouble, never
 * the card's: the capture is retried with backoff; when its attempts are spent the payment fails and the driver is
 * asked to pay (dunning), but the saved card keeps its standing and the driver's next session starts. Before
 * 2026-11-29 each such failure counted against the card, so a provider outage blocked the cards of regular drivers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { saveCardThroughApi } from './support/card-profile.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

const MAX_ATTEMPTS = 3;
const RETRY_BASE_MS = 1000;
/** The provider's calls that an outage leaves unanswered. */
const DOWN = new Set(['authorize', 'capture', 'void', 'charge', 'refund', 'getStatus']);

describe('payment provider outage', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;
  let station: Station;
  const clock = fixedClock(new Date('2026-11-26T12:00:00Z'));
  let outage = false;
  const unanswered: string[] = [];

  beforeAll(async () => {
    sandbox = createSandboxProvider({ clock, webhookSecret: 'outage-test-webhook-secret', webhookDelayMs: 1 });
    const provider = new Proxy(sandbox, {
      get(target, property, receiver) {
        if (!outage || typeof property !== 'string' || !DOWN.has(property)) {
          return Reflect.get(target, property, receiver);
        }
        return async () => {
          unanswered.push(property);
          return { ok: false, error: { code: 'ProviderUnavailable', message: 'connection refused (test outage)' } };
        };
      },
    }) as PaymentProvider;
    server = await startTestServer(
      {
        VOLTBILL_PAYMENT_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        VOLTBILL_PAYMENT_RETRY_BASE_MS: String(RETRY_BASE_MS),
        // One failure would block a card if the outage counted against it.
        VOLTBILL_PAYMENT_BLOCK_AFTER_FAILURES: '1',
        VOLTBILL_RECONCILE_INTERVAL_S: '0',
      },
      { clock, paymentProvider: provider },
    );
    await saveCardThroughApi(server, sandbox, 'DEMO0001');
    station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
  }, 240_000);
  const outboxMetrics = async () => {
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    return {
      pending: value('voltbill_payment_outbox_pending'),
      oldestS: value('voltbill_payment_outbox_oldest_pending_seconds'),
    };
  };
  afterAll(async () => {
    await station?.close({ force: true });
    await server?.close();
  });

  it('fails the capture after its attempts, opens dunning for the invoice total, and leaves the card active', async () => {
    const db = server.database.db;
    const started = (await station.call('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 0,
      timestamp: '2026-11-26T11:00:00.000Z',
    })) as { transactionId: number; idTagInfo: { status: string } };
    expect(started.idTagInfo.status).toBe('Accepted');
    // The hold, placed while the provider is up.
    expect(await server.payments.worker.runOnce()).toBe(1);
    const payment = await db
      .selectFrom('payments')
      .select(['id', 'status', 'payment_method_id'])
      .executeTakeFirstOrThrow();
    expect(payment.status).toBe('authorized');

    outage = true;
    await station.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 10_000, // 20 kW for 30 min: under the EVSE's rated 22 kW
      timestamp: '2026-11-26T11:30:00.000Z',
    });
    // The capture waits in the outbox, as the metrics show (the alert an operator sets during an outage).
    const waiting = await outboxMetrics();
    expect(waiting.pending).toBe(1);
    expect(waiting.oldestS).toBeGreaterThanOrEqual(0);
    expect(waiting.oldestS).toBeLessThan(600);
    const attempts: unknown[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      expect(await server.payments.worker.runOnce()).toBe(1);
      const step = await db
        .selectFrom('payment_outbox')
        .select(['action', 'status', 'attempts', 'last_error'])
        .where('payment_id', '=', payment.id)
        .where('action', '=', 'settle')
        .executeTakeFirstOrThrow();
      attempts.push(step);
      clock.advanceMs(RETRY_BASE_MS * 2 ** (attempt - 1));
    }
    const lastError = 'ProviderUnavailable: connection refused (test outage)';
    expect(attempts).toEqual([
      { action: 'settle', status: 'pending', attempts: 1, last_error: lastError },
      { action: 'settle', status: 'pending', attempts: 2, last_error: lastError },
      { action: 'settle', status: 'failed', attempts: 3, last_error: lastError },
    ]);
    // Each attempt: the capture, then the status query that could not resolve it.
    expect(unanswered).toEqual(['capture', 'getStatus', 'capture', 'getStatus', 'capture', 'getStatus']);

    const failed = await db
      .selectFrom('payments')
      .select(['status', 'failure_code', 'captured_minor'])
      .where('id', '=', payment.id)
      .executeTakeFirstOrThrow();
    // The hold stays as it was (nothing captured); the failure is on the payment's row.
    expect(failed).toEqual({ status: 'authorized', failure_code: 'ProviderUnavailable', captured_minor: 0n });
    const invoice = await db.selectFrom('invoices').select(['total_incl_vat_minor']).executeTakeFirstOrThrow();
    expect(invoice.total_incl_vat_minor).toBeGreaterThan(0n);
    const dunning = await db
      .selectFrom('payment_dunning')
      .select(['amount_minor', 'failure_code', 'resolved_at'])
      .where('payment_id', '=', payment.id)
      .executeTakeFirstOrThrow();
    expect(dunning).toEqual({
      amount_minor: invoice.total_incl_vat_minor,
      failure_code: 'ProviderUnavailable',
      resolved_at: null,
    });

    expect(await outboxMetrics()).toEqual({ pending: 0, oldestS: 0 });

    // The card: not a failure of its own, not blocked, no block decision, no "tokens blocked" notice.
    const method = await db
      .selectFrom('payment_methods')
      .select(['status', 'failure_count', 'blocked_reason'])
      .where('id', '=', payment.payment_method_id!)
      .executeTakeFirstOrThrow();
    expect(method).toEqual({ status: 'active', failure_count: 0, blocked_reason: null });
    const decisions = await db
      .selectFrom('payment_decisions')
      .select('decision')
      .where('decision', 'in', ['card-blocked', 'settle-failed'])
      .execute();
    expect(decisions.map((d) => d.decision)).toEqual(['settle-failed']);
    const blockedNotices = await db
      .selectFrom('notifications')
      .select('type')
      .where('type', '=', 'tokens.blocked')
      .execute();
    expect(blockedNotices).toEqual([]);
  });

  it('the provider back, the driver’s next session starts on the same card', async () => {
    outage = false;
    const next = (await station.call('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 10_000,
      timestamp: '2026-11-26T12:00:00.000Z',
    })) as { idTagInfo: { status: string } };
    expect(next.idTagInfo.status).toBe('Accepted');
  });
});
