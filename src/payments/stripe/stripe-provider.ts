/**
 * The Stripe adapter on the official `stripe` SDK: customers, SetupIntents for saved cards, PaymentIntents with
 * manual capture for holds, captures of a smaller amount, cancellation, refunds, idempotency keys from Voltbill's
 * domain ids, and Stripe-Signature verification. All unit quirks are in stripe-amounts.ts, all mapping in
 * stripe-transformers.ts; this file only makes the calls.
 */
import Stripe from 'stripe';
import type { Clock } from '../../shared/clock.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import type { PaymentProvider, ProviderError, ProviderPayment } from '../provider.ts';
import { verifyWebhookSignature } from '../webhook-signature.ts';
import {
  createRequestPacer,
  defaultStripeRequestsPerSecond,
  pacerMaxWaitMs,
  SEARCH_ENDPOINT,
  stripePacerRates,
} from './request-pacer.ts';
import { toStripeAmount } from './stripe-amounts.ts';
import {
  mapPaymentIntent,
  mapStripeError,
  parseStripeEvent,
  type StripePaymentIntentShape,
} from './stripe-transformers.ts';

export type StripeProviderOptions = {
  readonly secretKey: string;
  /** Endpoint secrets (whsec_...); more than one while rotating. */
  readonly webhookSecrets: readonly string[];
  readonly clock: Clock;
  readonly webhookToleranceS?: number;
  readonly timeoutMs?: number;
  /** Calls a second this node sends at most (request-pacer.ts); default by the key's mode. */
  readonly requestsPerSecond?: number;
  /** Only for tests against a local Stripe-shaped server. */
  readonly api?: { host: string; port: number; protocol: 'http' | 'https' };
};

const RETRIEVE = 'GET /v1/payment_intents/:id';
/** Refunds of one payment read by findRefund (Stripe's largest page). */
const REFUNDS_LISTED = 100;
const STRIPE_DEFAULT_TIMEOUT_MS = 20_000;

export function createStripeProvider(options: StripeProviderOptions): PaymentProvider {
  const stripe = new Stripe(options.secretKey, {
    // Voltbill's worker owns retries (with the same idempotency key), so the SDK does not retry on its own.
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? STRIPE_DEFAULT_TIMEOUT_MS,
    ...(options.api && { host: options.api.host, port: options.api.port, protocol: options.api.protocol }),
    appInfo: { name: 'Voltbill' },
  });

  const timeoutMs = options.timeoutMs ?? STRIPE_DEFAULT_TIMEOUT_MS;
  const maxWaitMs = pacerMaxWaitMs(timeoutMs);
  const pace = createRequestPacer({
    ...stripePacerRates(
      options.requestsPerSecond ?? defaultStripeRequestsPerSecond(options.secretKey),
      options.secretKey,
    ),
    maxWaitMs,
  });

  /** One call to Stripe's `endpoint` (for the pacer: its own limit per named operation), paced. */
  async function run<T>(endpoint: string, call: () => Promise<T>): Promise<Result<T, ProviderError>> {
    if (!(await pace(endpoint))) {
      // Not sent: nothing happened at Stripe, as after its own 429.
      return err({
        code: 'RateLimited',
        message: `not sent: calls to ${endpoint} on this node are queued more than ${maxWaitMs} ms ahead`,
      });
    }
    try {
      return ok(await call());
    } catch (error) {
      return err(mapStripeError(error));
    }
  }

  const asIntent = (value: unknown) => value as StripePaymentIntentShape;
  const paymentOf = (result: Result<unknown, ProviderError>): Result<ProviderPayment, ProviderError> =>
    result.ok ? mapPaymentIntent(asIntent(result.value)) : result;
  const expand = ['latest_charge'];

  return {
    name: 'stripe',
    isSandbox: false,

    async createCustomer(input) {
      const created = await run('POST /v1/customers', () =>
        stripe.customers.create(
          { ...(input.name && { name: input.name }), ...(input.email && { email: input.email }) },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return created.ok ? ok({ customerId: created.value.id }) : created;
    },

    async savePaymentMethod(input) {
      const setup = await run('POST /v1/setup_intents', () =>
        stripe.setupIntents.create(
          {
            customer: input.customerId,
            payment_method: input.paymentMethodRef,
            usage: 'off_session',
            // Cards confirmed server-side: no redirect-based methods, so no return_url is needed.
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            confirm: true,
            expand: ['payment_method'],
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      if (!setup.ok) return setup;
      const method = setup.value.payment_method as { id: string; card?: Record<string, unknown> } | null;
      if (setup.value.status !== 'succeeded' || !method || typeof method !== 'object' || !method.card) {
        return err({
          code: setup.value.status === 'requires_action' ? 'AuthenticationRequired' : 'InvalidState',
          message: `SetupIntent ${setup.value.id} is ${setup.value.status}`,
        });
      }
      const card = method.card as { brand: string; last4: string; exp_month: number; exp_year: number };
      return ok({
        token: method.id,
        brand: card.brand,
        last4: card.last4,
        expMonth: card.exp_month,
        expYear: card.exp_year,
      });
    },

    async authorize(input) {
      const amount = toStripeAmount(input.amount);
      if (!amount.ok) return amount;
      const created = await run('POST /v1/payment_intents', () =>
        stripe.paymentIntents.create(
          {
            amount: amount.value.amount,
            currency: amount.value.currency,
            capture_method: 'manual',
            payment_method: input.paymentMethodToken,
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            confirm: true,
            ...(input.customerId && { customer: input.customerId, off_session: true }),
            ...(input.description && { description: input.description }),
            metadata: { voltbill_key: input.idempotencyKey },
            expand,
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      const payment = paymentOf(created);
      if (payment.ok && payment.value.status === 'requires_authentication') {
        return err({
          code: 'AuthenticationRequired',
          message: 'the card needs 3-D Secure',
          providerPaymentId: payment.value.providerPaymentId,
        });
      }
      return payment;
    },

    async capture(input) {
      const amount = toStripeAmount(input.amount);
      if (!amount.ok) return amount;
      return paymentOf(
        await run('POST /v1/payment_intents/:id/capture', () =>
          stripe.paymentIntents.capture(
            input.providerPaymentId,
            { amount_to_capture: amount.value.amount, expand },
            { idempotencyKey: input.idempotencyKey },
          ),
        ),
      );
    },

    async void(input) {
      return paymentOf(
        await run('POST /v1/payment_intents/:id/cancel', () =>
          stripe.paymentIntents.cancel(input.providerPaymentId, { expand }, { idempotencyKey: input.idempotencyKey }),
        ),
      );
    },

    async refund(input) {
      const amount = toStripeAmount(input.amount);
      if (!amount.ok) return amount;
      const refund = await run('POST /v1/refunds', () =>
        stripe.refunds.create(
          // The key on the refund too: a refund whose answer was lost is found by it (findRefund).
          {
            payment_intent: input.providerPaymentId,
            amount: amount.value.amount,
            metadata: { voltbill_key: input.idempotencyKey },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      if (!refund.ok) return refund;
      const after = paymentOf(
        await run(RETRIEVE, () => stripe.paymentIntents.retrieve(input.providerPaymentId, { expand })),
      );
      if (after.ok) return ok({ ...after.value, refundId: refund.value.id });
      // The refund is made; only the payment's state after it is missing. Whatever the read's error (a 429
      // included, which would say nothing happened and skip the status query), the outcome is unknown: the status
      // query settles it before any retry, so a retry never relies on Stripe still remembering the key.
      return err({
        code: 'ProviderUnavailable',
        message: `refund ${refund.value.id} made, the payment not read after it: ${after.error.code}: ${after.error.message}`,
      });
    },

    async getStatus(input) {
      if (input.providerPaymentId) {
        const id = input.providerPaymentId;
        return paymentOf(await run(RETRIEVE, () => stripe.paymentIntents.retrieve(id, { expand })));
      }
      // The key is stored on the PaymentIntent's metadata at creation, so a lost response can still be found.
      const query = `metadata['voltbill_key']:'${input.idempotencyKey.replace(/['\\]/g, '')}'`;
      const found = await run(SEARCH_ENDPOINT, () =>
        stripe.paymentIntents.search({ query, limit: 1, expand: ['data.latest_charge'] }),
      );
      if (!found.ok) return found;
      const intent = found.value.data[0];
      if (!intent) return err({ code: 'NotFound', message: `no PaymentIntent for key ${input.idempotencyKey}` });
      return mapPaymentIntent(asIntent(intent));
    },

    async findRefund(input) {
      // The payment's refunds, newest first, at most REFUNDS_LISTED (a payment has a few: each one is asked for by
      // staff); the one carrying our key is ours.
      const listed = await run('GET /v1/refunds', () =>
        stripe.refunds.list({ payment_intent: input.providerPaymentId, limit: REFUNDS_LISTED }),
      );
      if (!listed.ok) return listed;
      const refund = listed.value.data.find((r) => r.metadata?.voltbill_key === input.idempotencyKey);
      return ok(refund ? { refundId: refund.id } : undefined);
    },

    parseWebhook(rawBody, headers) {
      const header = headers['stripe-signature'];
      const verified = verifyWebhookSignature({
        rawBody,
        header: Array.isArray(header) ? header[0] : header,
        secrets: options.webhookSecrets,
        nowS: Math.floor(options.clock.now().getTime() / 1000),
        ...(options.webhookToleranceS !== undefined && { toleranceS: options.webhookToleranceS }),
      });
      if (!verified.ok) return verified;
      return parseStripeEvent(rawBody);
    },
  };
}
