import { describe, expect, it } from 'vitest';
import { mapPaymentIntent, type StripePaymentIntentShape } from './stripe-transformers.ts';

const CREATED_S = 1_795_000_000;
const held = (latestCharge: StripePaymentIntentShape['latest_charge']): StripePaymentIntentShape => ({
  id: 'pi_1',
  object: 'payment_intent',
  status: 'requires_capture',
  amount: 5000,
  amount_received: 0,
  currency: 'eur',
  created: CREATED_S,
  latest_charge: latestCharge,
});
const expiryOf = (intent: StripePaymentIntentShape) => {
  const mapped = mapPaymentIntent(intent);
  if (!mapped.ok) throw new Error(mapped.error.message);
  return mapped.value.holdExpiresAt;
};

describe("a Stripe hold's expiry", () => {
  it("is the charge's capture_before when the charge is expanded", () => {
    const captureBeforeS = CREATED_S + (4 * 24 + 18) * 3600;
    expect(
      expiryOf(held({ amount_refunded: 0, payment_method_details: { card: { capture_before: captureBeforeS } } })),
    ).toEqual(new Date(captureBeforeS * 1000));
  });

  it('is not guessed when the charge is an id (events): the stored expiry stays', () => {
    expect(expiryOf(held('ch_1'))).toBeUndefined();
    expect(expiryOf(held(null))).toBeUndefined();
  });

  it('is the shortest documented window (4 days 18 hours) when an expanded charge lacks capture_before', () => {
    expect(expiryOf(held({ amount_refunded: 0, payment_method_details: { card: {} } }))).toEqual(
      new Date((CREATED_S + (4 * 24 + 18) * 3600) * 1000),
    );
  });
});
