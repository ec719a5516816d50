/**
 * Whether applying a provider's report to a stored payment (apply-provider-payment.ts) would leave the row as it is.
 * Most webhooks are such reports: the worker has already applied its own call's answer when the provider's event
 * about it arrives (Stripe sends three per paid session). Recognised from an unlocked read, such a webhook commits
 * its event id and nothing else: no lock on the payment row, which the worker's capture holds until its commit (the
 * webhooks waited 1.5 ms each for it under load), and no new row version.
 *
 * Why an unlocked read is enough: the merge only moves a payment forward (status by PAYMENT_STATUS_RANK, captured
 * and refunded amounts only grow). A report that changes nothing on the row as read changes nothing on any later
 * version of it either; a later version that took another provider payment (a renewed hold) would refuse the report.
 * Anything that needs the merge's rules beyond that (another currency, another or no provider payment id, a hold
 * expiry to move) answers false and goes through the locked merge, which also records refusals.
 */
import type { PaymentRow } from '../db/schema.ts';
import { PAYMENT_STATUS_RANK, type PaymentStatus, type ProviderPayment } from './provider.ts';

export function reportChangesNothing(stored: PaymentRow, reported: ProviderPayment): boolean {
  if (stored.currency !== reported.currency) return false;
  if (stored.provider_payment_id !== reported.providerPaymentId) return false;
  const storedRank = PAYMENT_STATUS_RANK[stored.status as PaymentStatus];
  if (storedRank === undefined || PAYMENT_STATUS_RANK[reported.status] > storedRank) return false;
  if (reported.capturedMinor > BigInt(stored.captured_minor)) return false;
  if (reported.refundedMinor > BigInt(stored.refunded_minor)) return false;
  // The merge keeps a hold's expiry only while the payment is authorized (moving it to the reported one) and clears
  // it otherwise.
  if (stored.status === 'authorized') {
    return (
      reported.holdExpiresAt === undefined ||
      (stored.hold_expires_at !== null && stored.hold_expires_at.getTime() === reported.holdExpiresAt.getTime())
    );
  }
  return stored.hold_expires_at === null;
}
