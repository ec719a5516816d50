/** What every payment flow and the worker need, passed in (main.ts builds it; tests build it with real parts). */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../shared/clock.ts';
import type { PaymentProvider } from './provider.ts';

export type PaymentSettings = {
  /** Default hold at session start, minor units of the session currency. */
  readonly holdMinor: bigint;
  /** No hold is ever larger. */
  readonly holdMaxMinor: bigint;
  /** Provider calls per step before it goes to dunning. */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  /** Failed payments after which a saved card is blocked. */
  readonly blockAfterFailures: number;
  /**
   * How long a worker's claim on an outbox row (and its lease on the row's payment) lasts; a killed worker's row is
   * retried after it. Longer than any step can take (`leaseForProviderTimeout`): a lease that lapsed mid-step would
   * let a second step of the payment, or the same one again, start beside it.
   */
  readonly leaseMs: number;
  /** Holds are captured or released this long before they expire (renewed in place one more lead time earlier). */
  readonly releaseBeforeExpiryMs: number;
  /** Least prepaid wallet balance (minor units) a session needs to start. */
  readonly walletMinStartMinor: bigint;
  /** Fraud limits: accepted session starts per id token, and per saved card, within any hour. */
  readonly startsPerTokenPerHour: number;
  readonly startsPerCardPerHour: number;
  /**
   * Outbox items one worker works at once. A provider call waits on the network (Stripe answers in a few hundred
   * ms), so one at a time caps a node at a few calls per second, below the rate sessions end at a busy operator.
   */
  readonly workerConcurrency: number;
};

export const DEFAULT_PAYMENT_SETTINGS: PaymentSettings = {
  holdMinor: 5000n,
  holdMaxMinor: 15_000n,
  // 2 s doubling to the one-hour cap, then hourly: the retries of one step span about 21 hours, so a provider outage
  // of a day's order fails no payment (8 attempts spanned 4 minutes).
  maxAttempts: 32,
  retryBaseMs: 2000,
  blockAfterFailures: 3,
  leaseMs: 60_000,
  releaseBeforeExpiryMs: 12 * 3600 * 1000,
  walletMinStartMinor: 500n,
  startsPerTokenPerHour: 6,
  startsPerCardPerHour: 10,
  workerConcurrency: 8,
};

/**
 * Provider calls one outbox step makes at most: a charge may create the customer, authorize, ask the status, capture
 * and ask the status twice (process-outbox-item.ts); a renewal authorizes, asks, and voids the old hold.
 */
export const MAX_PROVIDER_CALLS_PER_STEP = 6;

/**
 * The claim lease for a provider whose calls take at most `timeoutMs` each (for Stripe its timeout plus the longest
 * wait for a slot in its pacer): every call of the longest step taking that long, plus 30 s for the database work
 * around them; never below the default 60 s. (Stripe's default 20 s + 10 s: 210 s.)
 */
export function leaseForProviderTimeout(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_PAYMENT_SETTINGS.leaseMs;
  return Math.max(DEFAULT_PAYMENT_SETTINGS.leaseMs, MAX_PROVIDER_CALLS_PER_STEP * timeoutMs + 30_000);
}

export type PaymentContext = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly provider: PaymentProvider;
  readonly settings: PaymentSettings;
  /** Seals and opens provider customer ids (provider-customer-id.ts); main.ts always passes it. */
  readonly cipher?: FieldCipher;
};
