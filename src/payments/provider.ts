/**
 * The payment provider port: the few operations Voltbill needs from a card processor, in Voltbill's own terms.
 * Amounts are integer minor units of the ISO 4217 currency (Money); a provider's own unit quirks (Stripe's zero-
 * and three-decimal currencies) live only in its transformer. Every operation that moves money carries an
 * idempotency key derived from a Voltbill domain id, and a repeated key replays the first outcome.
 *
 * Each operation resolves to a typed Result whose error code is one of a closed set (ProviderErrorCode); an
 * exception thrown by an adapter is a bug. Statuses a provider reports that Voltbill does not know map to
 * 'pending', never to success.
 */
import type { Money } from '../shared/money.ts';
import type { Result } from '../shared/result.ts';

export type ProviderName = 'sandbox' | 'stripe';

/**
 * Where a payment is. Ordered by PAYMENT_STATUS_RANK: state only moves forward, so a late webhook saying
 * 'authorized' never overwrites 'captured'.
 */
export type PaymentStatus =
  | 'pending'
  | 'requires_authentication'
  | 'authorized'
  | 'captured'
  | 'partially_refunded'
  | 'refunded'
  | 'voided'
  | 'failed';

export const PAYMENT_STATUS_RANK: Readonly<Record<PaymentStatus, number>> = {
  pending: 0,
  requires_authentication: 1,
  authorized: 2,
  failed: 3,
  captured: 4,
  voided: 4,
  partially_refunded: 5,
  refunded: 6,
};

/** The closed set of provider error codes. */
export type ProviderErrorCode =
  | 'CardDeclined'
  | 'InsufficientFunds'
  | 'ExpiredCard'
  | 'IncorrectCvc'
  | 'AuthenticationRequired'
  | 'HoldExpired'
  | 'AmountExceedsHold'
  | 'InvalidState'
  | 'InvalidAmount'
  | 'IdempotencyConflict'
  | 'NotFound'
  | 'ProviderUnavailable'
  /**
   * The provider refused the request for its rate (Stripe's 429) before processing it: nothing happened, and the
   * same request may succeed later. Never the card's fault: retried without counting an attempt.
   */
  | 'RateLimited'
  | 'Timeout'
  | 'InvalidRequest';

export type ProviderError = {
  readonly code: ProviderErrorCode;
  readonly message: string;
  /** The provider's own code (e.g. Stripe's decline_code), for support staff. */
  readonly providerCode?: string;
  /** The payment the failed request touched, when the provider names it (a declined PaymentIntent). */
  readonly providerPaymentId?: string;
};

/**
 * Errors after which the outcome is not known: the request may have moved money. They are resolved by asking the
 * provider for the status under the same idempotency key, never by guessing.
 */
export const UNKNOWN_OUTCOME_CODES: ReadonlySet<ProviderErrorCode> = new Set(['ProviderUnavailable', 'Timeout']);

/**
 * Errors that are the provider's trouble, never the card's: unreachable, no answer in time, or refused for its rate.
 * A payment given up after them does not count against the card (`payment_methods.failure_count`).
 */
export const PROVIDER_SIDE_CODES: ReadonlySet<ProviderErrorCode> = new Set([...UNKNOWN_OUTCOME_CODES, 'RateLimited']);

/** Errors that no retry can fix: the card itself refuses (expired, closed, declined by the issuer). */
export const CARD_FATAL_CODES: ReadonlySet<ProviderErrorCode> = new Set([
  'CardDeclined',
  'InsufficientFunds',
  'ExpiredCard',
  'IncorrectCvc',
  'AuthenticationRequired',
]);

export type ProviderPayment = {
  readonly providerPaymentId: string;
  readonly status: PaymentStatus;
  readonly currency: Money['currency'];
  /** Held (or charged) amount in ISO minor units. */
  readonly authorizedMinor: bigint;
  readonly capturedMinor: bigint;
  readonly refundedMinor: bigint;
  /** When an uncaptured hold lapses; undefined once captured or voided. */
  readonly holdExpiresAt?: Date;
};

export type SavedPaymentMethod = {
  /** The provider's reusable token (sandbox pm_sbx_..., Stripe pm_...). The only card reference Voltbill keeps. */
  readonly token: string;
  readonly brand: string;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
};

export type WebhookEvent = {
  readonly eventId: string;
  readonly type: string;
  /** When the provider created the event: used only for logs, state ordering comes from PAYMENT_STATUS_RANK. */
  readonly createdAt: Date;
  readonly payment?: ProviderPayment;
  /** The idempotency key (Voltbill's own) the payment was created with, when the provider echoes it. */
  readonly voltbillKey?: string;
  /** A dispute (chargeback) opened or closed about a payment. */
  readonly dispute?: ProviderDispute;
};

/** A cardholder's dispute of a captured payment, in Voltbill's terms ('open' until the network decides). */
export type ProviderDispute = {
  readonly providerDisputeId: string;
  readonly providerPaymentId: string;
  readonly currency: Money['currency'];
  readonly amountMinor: bigint;
  readonly reason: string;
  readonly status: 'open' | 'won' | 'lost';
};

export type WebhookErrorCode = 'MissingSignature' | 'InvalidSignature' | 'StaleTimestamp' | 'MalformedEvent';
export type WebhookError = { readonly code: WebhookErrorCode; readonly message: string };

export type ProviderResult<T> = Promise<Result<T, ProviderError>>;

export interface PaymentProvider {
  readonly name: ProviderName;
  /** True for the built-in sandbox: shown next to every amount it handles. */
  readonly isSandbox: boolean;
  createCustomer(input: { idempotencyKey: string; name?: string; email?: string }): ProviderResult<{
    customerId: string;
  }>;
  /**
   * Attaches a payment method that the driver entered in the provider's hosted fields (Voltbill only ever sees its
   * one-time reference) to the customer for later off-session use. Returns the reusable token and display data.
   */
  savePaymentMethod(input: {
    idempotencyKey: string;
    customerId: string;
    paymentMethodRef: string;
  }): ProviderResult<SavedPaymentMethod>;
  /** Places a hold (authorization without capture) of `amount`. */
  authorize(input: {
    idempotencyKey: string;
    customerId?: string;
    paymentMethodToken: string;
    amount: Money;
    description?: string;
  }): ProviderResult<ProviderPayment>;
  /** Captures `amount` (≤ the held amount) and releases the rest of the hold. */
  capture(input: { idempotencyKey: string; providerPaymentId: string; amount: Money }): ProviderResult<ProviderPayment>;
  /** Releases a hold in full (nothing is charged). */
  void(input: { idempotencyKey: string; providerPaymentId: string }): ProviderResult<ProviderPayment>;
  /** Refunds `amount` of a captured payment (full or partial). */
  refund(input: {
    idempotencyKey: string;
    providerPaymentId: string;
    amount: Money;
  }): ProviderResult<ProviderPayment & { refundId: string }>;
  /**
   * The current state of the payment that the request with `idempotencyKey` created (an authorize) or touched;
   * `providerPaymentId` when already known. NotFound means the provider never received the request.
   */
  getStatus(input: { idempotencyKey: string; providerPaymentId?: string }): ProviderResult<ProviderPayment>;
  /**
   * The provider's id of the refund of `providerPaymentId` made under `idempotencyKey`, or undefined when it made
   * none under that key: for a refund whose answer was lost and whose outcome a status query settled (the status
   * says how much is refunded, not by which refund), so that support can find it at the provider.
   */
  findRefund(input: {
    idempotencyKey: string;
    providerPaymentId: string;
  }): ProviderResult<{ refundId: string } | undefined>;
  /** Verifies the signature on the raw body (never re-serialized JSON) and parses the event. */
  parseWebhook(
    rawBody: Buffer,
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): Result<WebhookEvent, WebhookError>;
}
