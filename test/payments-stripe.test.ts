/** The Stripe adapter with the real `stripe` SDK doing real HTTP against a local Stripe-shaped server. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createStripeProvider } from '../src/payments/stripe/stripe-provider.ts';
import { fixedClock, systemClock } from '../src/shared/clock.ts';
import { type CurrencyCode, money } from '../src/shared/money.ts';
import { type StripeShapedServer, startStripeShapedServer } from './support/stripe-shaped-server.ts';

const EUR = 'EUR' as CurrencyCode;
const JPY = 'JPY' as CurrencyCode;
const KWD = 'KWD' as CurrencyCode;

describe('Stripe adapter against a Stripe-shaped server', () => {
  let server: StripeShapedServer;
  let stripe: PaymentProvider;
  const clock = fixedClock(new Date('2026-11-26T10:00:00Z'));

  beforeAll(async () => {
    server = await startStripeShapedServer();
    stripe = createStripeProvider({
      secretKey: 'sk_test_voltbill',
      webhookSecrets: ['whsec_old', 'whsec_current'],
      clock,
      api: { host: '127.0.0.1', port: server.port, protocol: 'http' },
      timeoutMs: 2000,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function savedCard(ref: string, key: string) {
    const customer = await stripe.createCustomer({ idempotencyKey: `customer:${key}`, name: 'Driver' });
    if (!customer.ok) throw new Error(customer.error.message);
    const saved = await stripe.savePaymentMethod({
      idempotencyKey: `pm:${key}`,
      customerId: customer.value.customerId,
      paymentMethodRef: ref,
    });
    return { customerId: customer.value.customerId, saved };
  }

  it('saves a card with a SetupIntent, holds with manual capture, captures less and releases the rest', async () => {
    const { customerId, saved } = await savedCard('pm_card_visa', 'a');
    expect(saved.ok && saved.value).toMatchObject({ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034 });
    if (!saved.ok) return;
    const hold = await stripe.authorize({
      idempotencyKey: 'hold:session-a',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(5000n, EUR),
    });
    expect(hold.ok && hold.value).toMatchObject({ status: 'authorized', authorizedMinor: 5000n, capturedMinor: 0n });
    if (!hold.ok) return;
    // Visa, merchant-initiated (off-session): Stripe holds it 4 days 18 hours, and says so on the charge.
    const validityMs = (4 * 24 + 18) * 3600 * 1000;
    expect(Math.abs((hold.value.holdExpiresAt?.getTime() ?? 0) - (Date.now() + validityMs))).toBeLessThan(60_000);
    const create = server.requests.find((r) => r.idempotencyKey === 'hold:session-a')!;
    expect(create.body).toMatchObject({
      amount: '5000',
      currency: 'eur',
      capture_method: 'manual',
      confirm: 'true',
      off_session: 'true',
      metadata: { voltbill_key: 'hold:session-a' },
    });
    const captured = await stripe.capture({
      idempotencyKey: 'capture:invoice-a',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(1234n, EUR),
    });
    expect(captured.ok && captured.value).toMatchObject({ status: 'captured', capturedMinor: 1234n });
    expect(server.intent(hold.value.providerPaymentId)).toMatchObject({ amount_received: 1234, amount_capturable: 0 });

    // The same key replays the first result; different parameters under it are an error.
    const again = await stripe.capture({
      idempotencyKey: 'capture:invoice-a',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(1234n, EUR),
    });
    expect(again.ok && again.value.capturedMinor).toBe(1234n);
    const conflict = await stripe.capture({
      idempotencyKey: 'capture:invoice-a',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(999n, EUR),
    });
    expect(!conflict.ok && conflict.error.code).toBe('IdempotencyConflict');

    const partial = await stripe.refund({
      idempotencyKey: 'refund:1',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(234n, EUR),
    });
    expect(partial.ok && partial.value).toMatchObject({ status: 'partially_refunded', refundedMinor: 234n });
    const rest = await stripe.refund({
      idempotencyKey: 'refund:2',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(1000n, EUR),
    });
    expect(rest.ok && rest.value).toMatchObject({ status: 'refunded', refundedMinor: 1234n });
    const tooMuch = await stripe.refund({
      idempotencyKey: 'refund:3',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(1n, EUR),
    });
    expect(!tooMuch.ok && tooMuch.error.code).toBe('AmountExceedsHold');
  });

  it('a refund made whose read afterwards is refused for the rate is an unknown outcome, not "nothing happened"', async () => {
    const { customerId, saved } = await savedCard('pm_card_visa', 'refund-429');
    if (!saved.ok) throw new Error(saved.error.message);
    const hold = await stripe.authorize({
      idempotencyKey: 'hold:refund-429',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(3000n, EUR),
    });
    if (!hold.ok) throw new Error(hold.error.message);
    const captured = await stripe.capture({
      idempotencyKey: 'capture:refund-429',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(3000n, EUR),
    });
    expect(captured.ok).toBe(true);
    // refunds.create goes through; the PaymentIntent's read after it gets Stripe's 429.
    server.rateLimitNext(1, 'GET');
    const refund = await stripe.refund({
      idempotencyKey: 'refund:429',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(500n, EUR),
    });
    // RateLimited would say nothing happened: the worker would skip the status query and send the refund again,
    // safe only while Stripe still remembers the key. An unknown outcome is settled by the status query first.
    expect(!refund.ok && refund.error.code).toBe('ProviderUnavailable');
    expect(!refund.ok && refund.error.message).toMatch(
      /^refund re_\w+ made, the payment not read after it: RateLimited/,
    );
    expect(server.intent(hold.value.providerPaymentId)).toMatchObject({ amount_received: 3000 });
    const status = await stripe.getStatus({
      idempotencyKey: 'refund:429',
      providerPaymentId: hold.value.providerPaymentId,
    });
    expect(status.ok && status.value).toMatchObject({ status: 'partially_refunded', refundedMinor: 500n });
  });

  it('refuses to capture more than the hold and cancels a hold', async () => {
    const { customerId, saved } = await savedCard('pm_card_visa', 'b');
    if (!saved.ok) throw new Error('not saved');
    const hold = await stripe.authorize({
      idempotencyKey: 'hold:session-b',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(1000n, EUR),
    });
    if (!hold.ok) throw new Error('no hold');
    const over = await stripe.capture({
      idempotencyKey: 'capture:b',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(1001n, EUR),
    });
    expect(!over.ok && over.error.code).toBe('AmountExceedsHold');
    const voided = await stripe.void({ idempotencyKey: 'void:b', providerPaymentId: hold.value.providerPaymentId });
    expect(voided.ok && voided.value.status).toBe('voided');
    const late = await stripe.capture({
      idempotencyKey: 'capture:b2',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(10n, EUR),
    });
    expect(!late.ok && late.error.code).toBe('InvalidState');
  });

  it('maps declines of Stripe test cards onto the closed error set', async () => {
    const declined = await savedCard('pm_card_chargeDeclined', 'c');
    expect(!declined.saved.ok && declined.saved.error.code).toBe('CardDeclined');
    const funds = await savedCard('pm_card_chargeDeclinedInsufficientFunds', 'd');
    expect(!funds.saved.ok && funds.saved.error.code).toBe('InsufficientFunds');
    const expired = await savedCard('pm_card_chargeDeclinedExpiredCard', 'e');
    expect(!expired.saved.ok && expired.saved.error.code).toBe('ExpiredCard');
    const cvc = await savedCard('pm_card_chargeDeclinedIncorrectCvc', 'f');
    expect(!cvc.saved.ok && cvc.saved.error.code).toBe('IncorrectCvc');

    const later = await savedCard('pm_card_chargeCustomerFail', 'g');
    if (!later.saved.ok) throw new Error('0341 must save');
    const charge = await stripe.authorize({
      idempotencyKey: 'hold:g',
      customerId: later.customerId,
      paymentMethodToken: later.saved.value.token,
      amount: money(500n, EUR),
    });
    expect(!charge.ok && charge.error).toMatchObject({ code: 'CardDeclined', providerCode: 'generic_decline' });

    const auth = await savedCard('pm_card_authenticationRequired', 'h');
    if (!auth.saved.ok) throw new Error('3155 must save');
    const offSession = await stripe.authorize({
      idempotencyKey: 'hold:h',
      customerId: auth.customerId,
      paymentMethodToken: auth.saved.value.token,
      amount: money(500n, EUR),
    });
    expect(!offSession.ok && offSession.error.code).toBe('AuthenticationRequired');
  });

  it('converts zero- and three-decimal currencies and refuses amounts Stripe cannot take', async () => {
    const { customerId, saved } = await savedCard('pm_card_visa', 'i');
    if (!saved.ok) throw new Error('not saved');
    const yen = await stripe.authorize({
      idempotencyKey: 'hold:jpy',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(1500n, JPY),
    });
    expect(yen.ok && yen.value).toMatchObject({ authorizedMinor: 1500n, currency: 'JPY' });
    expect(server.requests.find((r) => r.idempotencyKey === 'hold:jpy')!.body.amount).toBe('1500');
    const dinar = await stripe.authorize({
      idempotencyKey: 'hold:kwd',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(12_345n, KWD),
    });
    expect(!dinar.ok && dinar.error.code).toBe('InvalidAmount');
    expect(server.requests.some((r) => r.idempotencyKey === 'hold:kwd')).toBe(false);
  });

  it('resolves a lost response by the same key: the status query finds the PaymentIntent, a retry replays it', async () => {
    const { customerId, saved } = await savedCard('pm_card_visa', 'j');
    if (!saved.ok) throw new Error('not saved');
    // The SDK itself retries a closed connection once under the same key; both answers are lost here.
    server.loseResponseOfNext(2);
    const lost = await stripe.authorize({
      idempotencyKey: 'hold:lost',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(2000n, EUR),
    });
    expect(!lost.ok && lost.error.code).toBe('ProviderUnavailable');
    const status = await stripe.getStatus({ idempotencyKey: 'hold:lost' });
    expect(status.ok && status.value).toMatchObject({ status: 'authorized', authorizedMinor: 2000n });
    const retry = await stripe.authorize({
      idempotencyKey: 'hold:lost',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(2000n, EUR),
    });
    expect(retry.ok && status.ok && retry.value.providerPaymentId).toBe(status.ok && status.value.providerPaymentId);
    expect(
      server.requests.filter((r) => r.path === '/v1/payment_intents' && r.idempotencyKey === 'hold:lost'),
    ).toHaveLength(3);

    // Stripe's 429: refused before processing, a code of its own (never the card's fault, never an unknown outcome).
    server.rateLimitNext(1);
    const limited = await stripe.authorize({
      idempotencyKey: 'hold:limited',
      customerId,
      paymentMethodToken: saved.value.token,
      amount: money(2000n, EUR),
    });
    expect(!limited.ok && [limited.error.code, limited.error.providerCode]).toEqual(['RateLimited', 'rate_limit']);
    expect((await stripe.getStatus({ idempotencyKey: 'hold:limited' })).ok).toBe(false);

    server.failNext(1);
    const unavailable = await stripe.getStatus({ idempotencyKey: 'hold:lost' });
    expect(!unavailable.ok && unavailable.error.code).toBe('ProviderUnavailable');
    const never = await stripe.getStatus({ idempotencyKey: 'hold:never-sent' });
    expect(!never.ok && never.error.code).toBe('NotFound');
  });

  it('verifies Stripe-Signature headers made by the official SDK, with rotation and a tolerance window', async () => {
    const payload = JSON.stringify({
      id: 'evt_1',
      object: 'event',
      type: 'payment_intent.amount_capturable_updated',
      created: 1_795_000_000,
      data: {
        object: {
          id: 'pi_1',
          object: 'payment_intent',
          status: 'requires_capture',
          amount: 3000,
          amount_received: 0,
          currency: 'eur',
          created: 1_795_000_000,
          metadata: { voltbill_key: 'hold:x' },
          latest_charge: null,
        },
      },
    });
    const sdk = new Stripe('sk_test_x');
    const nowS = Math.floor(clock.now().getTime() / 1000);
    const header = sdk.webhooks.generateTestHeaderString({ payload, secret: 'whsec_old', timestamp: nowS });
    const parsed = stripe.parseWebhook(Buffer.from(payload), { 'stripe-signature': header });
    expect(parsed.ok && parsed.value).toMatchObject({
      eventId: 'evt_1',
      voltbillKey: 'hold:x',
      payment: { providerPaymentId: 'pi_1', status: 'authorized', authorizedMinor: 3000n },
    });
    const tampered = stripe.parseWebhook(Buffer.from(payload.replace('3000', '3001')), { 'stripe-signature': header });
    expect(!tampered.ok && tampered.error.code).toBe('InvalidSignature');
    const wrongSecret = sdk.webhooks.generateTestHeaderString({ payload, secret: 'whsec_other', timestamp: nowS });
    const refused = stripe.parseWebhook(Buffer.from(payload), { 'stripe-signature': wrongSecret });
    expect(!refused.ok && refused.error.code).toBe('InvalidSignature');
    const old = sdk.webhooks.generateTestHeaderString({ payload, secret: 'whsec_current', timestamp: nowS - 301 });
    const stale = stripe.parseWebhook(Buffer.from(payload), { 'stripe-signature': old });
    expect(!stale.ok && stale.error.code).toBe('StaleTimestamp');
    const missing = stripe.parseWebhook(Buffer.from(payload), {});
    expect(!missing.ok && missing.error.code).toBe('MissingSignature');
  });
  it("receives the Stripe-shaped server's signed events for a hold, a capture and a refund, as Stripe sends them", async () => {
    // The events are signed with the current time: an adapter on the real clock verifies them.
    const live = createStripeProvider({
      secretKey: 'sk_test_voltbill',
      webhookSecrets: ['whsec_current'],
      clock: systemClock,
      api: { host: '127.0.0.1', port: server.port, protocol: 'http' },
      timeoutMs: 2000,
    });
    const received: { body: Buffer; signature: string | undefined }[] = [];
    const endpoint = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ body: Buffer.concat(chunks), signature: request.headers['stripe-signature'] as string });
        response.end();
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    server.setWebhook({
      url: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/webhook`,
      secret: 'whsec_current',
    });
    try {
      const { customerId, saved } = await savedCard('pm_card_visa', 'webhooks');
      if (!saved.ok) throw new Error('not saved');
      const hold = await live.authorize({
        idempotencyKey: 'hold:webhooks',
        customerId,
        paymentMethodToken: saved.value.token,
        amount: money(5000n, EUR),
      });
      if (!hold.ok) throw new Error('no hold');
      const pi = hold.value.providerPaymentId;
      await live.capture({ idempotencyKey: 'capture:webhooks', providerPaymentId: pi, amount: money(1234n, EUR) });
      await live.refund({ idempotencyKey: 'refund:webhooks', providerPaymentId: pi, amount: money(234n, EUR) });
      // A replayed request changes nothing, so Stripe sends nothing for it.
      await live.capture({ idempotencyKey: 'capture:webhooks', providerPaymentId: pi, amount: money(1234n, EUR) });
      const deadline = Date.now() + 5000;
      while (received.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 100)); // nothing more arrives
      const events = received.map(({ body, signature }) => {
        const parsed = live.parseWebhook(body, { 'stripe-signature': signature });
        if (!parsed.ok) throw new Error(`${parsed.error.code}: ${parsed.error.message}`);
        return parsed.value;
      });
      // Delivered concurrently, as Stripe does: the order is not promised.
      const byType = Object.fromEntries(events.map((event) => [event.type, event]));
      expect(Object.keys(byType).sort()).toEqual([
        'charge.refunded',
        'payment_intent.amount_capturable_updated',
        'payment_intent.created',
        'payment_intent.succeeded',
      ]);
      expect(events).toHaveLength(4);
      expect(byType['payment_intent.amount_capturable_updated']).toMatchObject({
        voltbillKey: 'hold:webhooks',
        payment: { providerPaymentId: pi, status: 'authorized', authorizedMinor: 5000n, capturedMinor: 0n },
      });
      // An event names the charge by id only: no expiry is guessed, so the one stored from the call stays.
      expect(byType['payment_intent.amount_capturable_updated']?.payment?.holdExpiresAt).toBeUndefined();
      expect(byType['payment_intent.succeeded']).toMatchObject({
        payment: { providerPaymentId: pi, status: 'captured', capturedMinor: 1234n },
      });
      expect(byType['charge.refunded']).toMatchObject({
        payment: { providerPaymentId: pi, status: 'partially_refunded', capturedMinor: 1234n, refundedMinor: 234n },
      });
      expect(server.webhookCounts).toEqual({ delivered: 4, refused: 0, failed: 0 });
    } finally {
      server.setWebhook(undefined);
      await new Promise<void>((resolve) => endpoint.close(() => resolve()));
    }
  });
});
