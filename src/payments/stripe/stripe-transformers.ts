/**
 * Pure translations between Stripe's objects and Voltbill's port types: PaymentIntent → ProviderPayment, Stripe
 * errors → the closed ProviderErrorCode set, events → WebhookEvent. Unknown statuses map to 'pending'.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import type {
  PaymentStatus,
  ProviderError,
  ProviderErrorCode,
  ProviderPayment,
  WebhookError,
  WebhookEvent,
} from '../provider.ts';
import { fromStripeAmount } from './stripe-amounts.ts';

/** The fields of a PaymentIntent the adapter reads (Stripe objects carry many more). */
export type StripePaymentIntentShape = {
  id: string;
  object?: string;
  status: string;
  amount: number;
  amount_capturable?: number;
  amount_received?: number;
  currency: string;
  created?: number;
  metadata?: Record<string, string> | null;
  last_payment_error?: { code?: string; decline_code?: string } | null;
  latest_charge?:
    | string
    | null
    | {
        amount_refunded?: number;
        amount_captured?: number;
        payment_method_details?: { card?: { capture_before?: number | null } | null } | null;
      };
};

export type StripeChargeShape = {
  id: string;
  object: 'charge';
  payment_intent: string | null;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  currency: string;
  refunded: boolean;
  metadata?: Record<string, string> | null;
};

/** Stripe's shortest card-not-present authorization window: Visa, merchant-initiated, 4 days 18 hours. */
const SHORTEST_HOLD_S = (4 * 24 + 18) * 3600;

export function mapIntentStatus(intent: StripePaymentIntentShape): PaymentStatus {
  switch (intent.status) {
    case 'requires_capture':
      return 'authorized';
    case 'succeeded': {
      const refunded = typeof intent.latest_charge === 'object' ? (intent.latest_charge?.amount_refunded ?? 0) : 0;
      const captured = intent.amount_received ?? 0;
      if (refunded > 0) return refunded >= captured ? 'refunded' : 'partially_refunded';
      return 'captured';
    }
    case 'canceled':
      return 'voided';
    case 'requires_action':
      return 'requires_authentication';
    case 'requires_payment_method':
      return intent.last_payment_error ? 'failed' : 'pending';
    default:
      // processing, requires_confirmation and anything Stripe adds later: not money we can count on.
      return 'pending';
  }
}

export function mapPaymentIntent(intent: StripePaymentIntentShape): Result<ProviderPayment, ProviderError> {
  const status = mapIntentStatus(intent);
  const amount = fromStripeAmount(intent.amount, intent.currency);
  if (!amount.ok) return amount;
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  const received = fromStripeAmount(intent.amount_received ?? 0, intent.currency);
  const refunded = fromStripeAmount(charge?.amount_refunded ?? 0, intent.currency);
  if (!received.ok) return received;
  if (!refunded.ok) return refunded;
  // The hold's expiry as Stripe states it on the charge (capture_before): it differs by network and by who initiated
  // the payment (Visa merchant-initiated: 4 days 18 hours; most others 7 days). Every call Voltbill makes expands
  // the charge. An event carries it as an id only: no expiry then, and the stored one stays (a guess of creation +
  // 7 days there used to move a Visa hold's stored expiry past its real one, so renewal or release came too late).
  // An expanded charge without capture_before (not seen; an older API version) gets the shortest documented window.
  const captureBeforeS = charge
    ? (charge.payment_method_details?.card?.capture_before ??
      (intent.created === undefined ? undefined : intent.created + SHORTEST_HOLD_S))
    : undefined;
  return ok({
    providerPaymentId: intent.id,
    status,
    currency: amount.value.currency,
    authorizedMinor: status === 'failed' || status === 'pending' ? 0n : amount.value.minor,
    capturedMinor: received.value.minor,
    refundedMinor: refunded.value.minor,
    ...(status === 'authorized' && captureBeforeS !== undefined && { holdExpiresAt: new Date(captureBeforeS * 1000) }),
  });
}

/** The parts of a Stripe SDK error the mapping reads. */
export type StripeErrorShape = {
  type?: string;
  code?: string;
  decline_code?: string;
  message?: string;
  statusCode?: number;
  payment_intent?: { id?: string };
  raw?: { payment_intent?: { id?: string } };
};

const DECLINE_CODES: Readonly<Record<string, ProviderErrorCode>> = {
  insufficient_funds: 'InsufficientFunds',
  expired_card: 'ExpiredCard',
  incorrect_cvc: 'IncorrectCvc',
  authentication_required: 'AuthenticationRequired',
};

const REQUEST_CODES: Readonly<Record<string, ProviderErrorCode>> = {
  expired_card: 'ExpiredCard',
  incorrect_cvc: 'IncorrectCvc',
  authentication_required: 'AuthenticationRequired',
  resource_missing: 'NotFound',
  amount_too_large: 'AmountExceedsHold',
  payment_intent_unexpected_state: 'InvalidState',
  charge_expired_for_capture: 'HoldExpired',
  idempotency_key_in_use: 'ProviderUnavailable',
};

/** Maps an error thrown by the Stripe SDK (or anything else) onto the closed error set. */
export function mapStripeError(error: unknown): ProviderError {
  const e = (error ?? {}) as StripeErrorShape;
  const message = e.message ?? String(error);
  const providerPaymentId = e.payment_intent?.id ?? e.raw?.payment_intent?.id;
  const base = {
    message,
    ...(e.decline_code || e.code ? { providerCode: e.decline_code ?? e.code } : {}),
    ...(providerPaymentId && { providerPaymentId }),
  };
  switch (e.type) {
    case 'StripeCardError':
    case 'card_error':
      return { code: DECLINE_CODES[e.decline_code ?? ''] ?? REQUEST_CODES[e.code ?? ''] ?? 'CardDeclined', ...base };
    case 'StripeIdempotencyError':
    case 'idempotency_error':
      // Another request under the same key still in progress (409 `idempotency_key_in_use`: two workers on one step
      // after a lapsed lease) has an outcome not known yet, asked again later; any other is a key reused with other
      // parameters (a defect).
      return { code: e.code === 'idempotency_key_in_use' ? 'ProviderUnavailable' : 'IdempotencyConflict', ...base };
    case 'StripeConnectionError':
      // The request may or may not have reached Stripe: an unknown outcome.
      return { code: /timed? ?out/i.test(message) ? 'Timeout' : 'ProviderUnavailable', ...base };
    case 'StripeRateLimitError':
    case 'rate_limit_error':
      // 429: the rate limiter (or an object's lock, `lock_timeout`) refused the request before Stripe processed it.
      return { code: 'RateLimited', ...base };
    case 'StripeAPIError':
    case 'api_error':
      return { code: 'ProviderUnavailable', ...base };
    case 'StripeInvalidRequestError':
    case 'invalid_request_error':
      return { code: REQUEST_CODES[e.code ?? ''] ?? 'InvalidRequest', ...base };
    default:
      if ((e.statusCode ?? 0) >= 500) return { code: 'ProviderUnavailable', ...base };
      return { code: 'InvalidRequest', ...base };
  }
}

/** Parses a verified Stripe event. Events about other objects carry no payment and change nothing. */
export function parseStripeEvent(rawBody: Buffer): Result<WebhookEvent, WebhookError> {
  const malformed = (message: string) => err({ code: 'MalformedEvent' as const, message });
  let event: { id?: unknown; type?: unknown; created?: unknown; data?: { object?: Record<string, unknown> } };
  try {
    event = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return malformed('body is not JSON');
  }
  if (typeof event.id !== 'string' || typeof event.type !== 'string' || typeof event.created !== 'number') {
    return malformed('event lacks id, type or created');
  }
  const base = { eventId: event.id, type: event.type, createdAt: new Date(event.created * 1000) };
  const object = event.data?.object;
  if (!object || typeof object !== 'object') return malformed('event lacks data.object');
  if (object.object === 'payment_intent') {
    const intent = object as unknown as StripePaymentIntentShape;
    const payment = mapPaymentIntent(intent);
    if (!payment.ok) return malformed(payment.error.message);
    const key = intent.metadata?.voltbill_key;
    return ok({ ...base, payment: payment.value, ...(key && { voltbillKey: key }) });
  }
  if (object.object === 'dispute') {
    // charge.dispute.created / .updated / .closed: data.object is a Dispute (id dp_..., amount in Stripe's units,
    // lowercase currency, payment_intent, reason, status). Closed statuses: won, lost, warning_closed (an inquiry
    // that ended without a chargeback: the merchant keeps the money, so it counts as won).
    const d = object as {
      id?: unknown;
      amount?: unknown;
      currency?: unknown;
      payment_intent?: unknown;
      reason?: unknown;
      status?: unknown;
    };
    if (
      typeof d.id !== 'string' ||
      typeof d.payment_intent !== 'string' ||
      typeof d.amount !== 'number' ||
      typeof d.currency !== 'string'
    ) {
      return malformed('dispute lacks id, payment_intent, amount or currency');
    }
    const amount = fromStripeAmount(d.amount, d.currency);
    if (!amount.ok) return malformed('dispute amount is not valid');
    const status = d.status === 'lost' ? 'lost' : d.status === 'won' || d.status === 'warning_closed' ? 'won' : 'open';
    return ok({
      ...base,
      dispute: {
        providerDisputeId: d.id,
        providerPaymentId: d.payment_intent,
        currency: amount.value.currency,
        amountMinor: amount.value.minor,
        reason: typeof d.reason === 'string' ? d.reason.slice(0, 100) : 'unknown',
        status,
      },
    });
  }
  if (object.object === 'charge') {
    const charge = object as unknown as StripeChargeShape;
    if (!charge.payment_intent) return ok(base);
    const amount = fromStripeAmount(charge.amount, charge.currency);
    const captured = fromStripeAmount(charge.amount_captured, charge.currency);
    const refunded = fromStripeAmount(charge.amount_refunded, charge.currency);
    if (!amount.ok || !captured.ok || !refunded.ok) return malformed('charge amounts are not valid');
    const status: PaymentStatus =
      refunded.value.minor === 0n
        ? captured.value.minor > 0n
          ? 'captured'
          : 'pending'
        : refunded.value.minor >= captured.value.minor
          ? 'refunded'
          : 'partially_refunded';
    return ok({
      ...base,
      payment: {
        providerPaymentId: charge.payment_intent,
        status,
        currency: amount.value.currency,
        authorizedMinor: amount.value.minor,
        capturedMinor: captured.value.minor,
        refundedMinor: refunded.value.minor,
      },
    });
  }
  return ok(base);
}
