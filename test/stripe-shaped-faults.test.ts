/**
 * The Stripe-shaped server's seeded fault injection (used by `npm run chaos -- --provider-faults`), driven by the
 * real `stripe` SDK through Voltbill's adapter: what each fault does to the provider's state and what the adapter
 * reports, and that a seed draws the same faults every time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createStripeProvider } from '../src/payments/stripe/stripe-provider.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { type CurrencyCode, money } from '../src/shared/money.ts';
import { type StripeShapedServer, startStripeShapedServer } from './support/stripe-shaped-server.ts';

const EUR = 'EUR' as CurrencyCode;
const NONE = { timeout: 0, serverError: 0, lostResponse: 0 };

describe('Stripe-shaped server: seeded provider faults', () => {
  const servers: StripeShapedServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function start(timeoutMs = 2000): Promise<{ server: StripeShapedServer; stripe: PaymentProvider }> {
    const server = await startStripeShapedServer();
    servers.push(server);
    const stripe = createStripeProvider({
      secretKey: 'sk_test_faults',
      webhookSecrets: ['whsec_faults'],
      clock: fixedClock(new Date('2026-11-26T10:00:00Z')),
      api: { host: '127.0.0.1', port: server.port, protocol: 'http' },
      timeoutMs,
    });
    return { server, stripe };
  }
  const hold = (stripe: PaymentProvider, key: string) =>
    stripe.authorize({ idempotencyKey: key, paymentMethodToken: 'pm_card_visa', amount: money(5000n, EUR) });

  it('a 500 changes nothing: the retry under the same key places the one hold', async () => {
    const { server, stripe } = await start();
    server.injectFaults({ rates: { ...NONE, serverError: 1 }, seed: 1 });
    const failed = await hold(stripe, 'hold:s1');
    expect(failed.ok ? 'ok' : failed.error.code).toBe('ProviderUnavailable');
    expect(server.allIntents()).toHaveLength(0);
    server.injectFaults(undefined);
    const retried = await hold(stripe, 'hold:s1');
    expect(retried.ok && retried.value).toMatchObject({ status: 'authorized', authorizedMinor: 5000n });
    expect(server.allIntents()).toHaveLength(1);
    expect(server.faultCounts).toMatchObject({ requests: 1, serverError: 1, timeout: 0, lostResponse: 0 });
  });

  it('a lost response was processed: the status query finds the hold, the retry replays it', async () => {
    const { server, stripe } = await start();
    server.injectFaults({ rates: { ...NONE, lostResponse: 1 }, seed: 1 });
    const lost = await hold(stripe, 'hold:s2');
    expect(lost.ok ? 'ok' : lost.error.code).toBe('ProviderUnavailable');
    expect(server.allIntents().map((i) => i.status)).toEqual(['requires_capture']);
    server.injectFaults(undefined);
    const found = await stripe.getStatus({ idempotencyKey: 'hold:s2' });
    const retried = await hold(stripe, 'hold:s2');
    expect(found.ok && retried.ok && found.value.providerPaymentId === retried.value.providerPaymentId).toBe(true);
    expect(server.allIntents()).toHaveLength(1);
  });

  it('a refund whose answer was lost is found by its key among the payment’s refunds, and only that one', async () => {
    const { server, stripe } = await start();
    const placed = await hold(stripe, 'hold:r1');
    if (!placed.ok) throw new Error(placed.error.message);
    const providerPaymentId = placed.value.providerPaymentId;
    const captured = await stripe.capture({
      idempotencyKey: 'capture:r1',
      providerPaymentId,
      amount: money(4000n, EUR),
    });
    expect(captured.ok).toBe(true);
    const refund = (key: string, minor: bigint) =>
      stripe.refund({ idempotencyKey: key, providerPaymentId, amount: money(minor, EUR) });
    const first = await refund('refund:r1:a', 500n);
    if (!first.ok) throw new Error(first.error.message);
    server.injectFaults({ rates: { ...NONE, lostResponse: 1 }, seed: 1 });
    const lost = await refund('refund:r1:b', 700n);
    server.injectFaults(undefined);
    expect(lost.ok ? 'ok' : lost.error.code).toBe('ProviderUnavailable');
    // The status says how much is refunded (both), not by which refund: the key finds the second one's id.
    const status = await stripe.getStatus({ idempotencyKey: 'refund:r1:b', providerPaymentId });
    expect(status.ok && status.value.refundedMinor).toBe(1200n);
    const found = await stripe.findRefund({ idempotencyKey: 'refund:r1:b', providerPaymentId });
    expect(found.ok && found.value?.refundId).toMatch(/^re_/);
    expect(found.ok && found.value?.refundId).not.toBe(first.value.refundId);
    const again = await stripe.findRefund({ idempotencyKey: 'refund:r1:a', providerPaymentId });
    expect(again.ok && again.value).toEqual({ refundId: first.value.refundId });
    // No refund under a key never used, nor under a refund key of this payment asked about another payment.
    expect(await stripe.findRefund({ idempotencyKey: 'refund:r1:none', providerPaymentId })).toEqual({
      ok: true,
      value: undefined,
    });
    const other = await hold(stripe, 'hold:r2');
    if (!other.ok) throw new Error(other.error.message);
    expect(
      await stripe.findRefund({ idempotencyKey: 'refund:r1:a', providerPaymentId: other.value.providerPaymentId }),
    ).toEqual({ ok: true, value: undefined });
  });

  it('a timeout is held until the client gives up; processed or not as drawn, never twice', async () => {
    const { server, stripe } = await start(300);
    server.injectFaults({ rates: { ...NONE, timeout: 1 }, seed: 7 });
    const codes: string[] = [];
    for (let n = 0; n < 6; n++) {
      const result = await hold(stripe, `hold:t${n}`);
      codes.push(result.ok ? 'ok' : result.error.code);
    }
    expect(codes).toEqual(Array(6).fill('Timeout'));
    const counts = server.faultCounts;
    expect(counts.timeout).toBe(6);
    // Processed timeouts left a hold each; the others nothing.
    expect(server.allIntents()).toHaveLength(counts.timeoutAfterProcessing);
    server.injectFaults(undefined);
    for (let n = 0; n < 6; n++) expect((await hold(stripe, `hold:t${n}`)).ok).toBe(true);
    expect(server.allIntents()).toHaveLength(6);
  });

  it('atLeastOnce forces a timeout, a 500 and a successful capture with its answer lost, once each, then draws', async () => {
    const { server, stripe } = await start(300);
    // Rates so small that seed 1 draws nothing in these requests: every fault below is forced.
    server.injectFaults({
      rates: { timeout: 1e-9, serverError: 1e-9, lostResponse: 1e-9 },
      seed: 1,
      atLeastOnce: true,
    });
    // A GET is no payment call: never forced.
    const found = await stripe.getStatus({ idempotencyKey: 'hold:none' });
    expect(found.ok ? 'ok' : found.error.code).not.toBe('Timeout');
    const codes: string[] = [];
    for (let n = 0; n < 3; n++) {
      const result = await hold(stripe, `hold:f${n}`);
      codes.push(result.ok ? 'ok' : result.error.code);
    }
    // The first payment call held until the client gave up, the next answered 500, the third went through.
    expect(codes).toEqual(['Timeout', 'ProviderUnavailable', 'ok']);
    const [placed] = server
      .allIntents()
      .filter((i) => (i.metadata as Record<string, string>).voltbill_key === 'hold:f2');
    const capture = () =>
      stripe.capture({
        idempotencyKey: 'capture:f2',
        providerPaymentId: placed!.id as string,
        amount: money(4000n, EUR),
      });
    const lost = await capture();
    expect(lost.ok ? 'ok' : lost.error.code).toBe('ProviderUnavailable');
    // The money moved although the answer never came, not even to the SDK's own retry (a replay under the same key:
    // two requests); the caller's retry under the same key replays it, and is not lost again.
    expect(server.intent(placed!.id as string)).toMatchObject({ status: 'succeeded', amount_received: 4000 });
    const retried = await capture();
    expect(retried.ok && retried.value).toMatchObject({ status: 'captured', capturedMinor: 4000n });
    expect(server.captureCount(placed!.id as string)).toBe(1);
    expect(server.requests.filter((r) => r.idempotencyKey === 'capture:f2')).toHaveLength(3);
    expect((await hold(stripe, 'hold:f3')).ok).toBe(true);
    expect(server.faultCounts).toMatchObject({
      timeout: 1,
      serverError: 1,
      lostResponse: 1,
      forced: 3,
      lostCaptures: 1,
    });
  });

  it('a seed draws the same faults for the same requests; the rates are honoured', async () => {
    const runs: StripeShapedServer['faultCounts'][] = [];
    for (let run = 0; run < 2; run++) {
      const { server } = await start();
      server.injectFaults({ rates: { timeout: 0.2, serverError: 0.2, lostResponse: 0.2 }, seed: 42 });
      // Cheap requests: GETs of an unknown intent (404 unless a fault is drawn).
      for (let n = 0; n < 40; n++) {
        const response = await fetch(`http://127.0.0.1:${server.port}/v1/payment_intents/pi_00`, {
          headers: { authorization: 'Bearer sk_test_faults' },
          signal: AbortSignal.timeout(200),
        }).catch(() => undefined);
        await response?.text();
      }
      runs.push({ ...server.faultCounts });
    }
    expect(runs[0]).toEqual(runs[1]);
    const c = runs[0]!;
    expect(c.requests).toBe(40);
    expect(c.timeout + c.serverError + c.lostResponse).toBeGreaterThan(0);
    expect(c.timeout + c.serverError + c.lostResponse).toBeLessThan(40);
  });
});
