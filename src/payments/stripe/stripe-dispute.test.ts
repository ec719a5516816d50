import { describe, expect, it } from 'vitest';
import { parseStripeEvent } from './stripe-transformers.ts';

/** Stripe's documented Dispute object inside a charge.dispute.* event (amounts in Stripe's units). */
function disputeEvent(type: string, status: string, amount = 1234, currency = 'eur') {
  return Buffer.from(
    JSON.stringify({
      id: `evt_${type}_${status}`,
      object: 'event',
      type,
      created: 1_790_000_000,
      data: {
        object: {
          id: 'dp_1PxYz',
          object: 'dispute',
          amount,
          currency,
          charge: 'ch_1PxYz',
          payment_intent: 'pi_1PxYz',
          reason: 'fraudulent',
          status,
          is_charge_refundable: false,
          livemode: false,
        },
      },
    }),
  );
}

describe('Stripe dispute events', () => {
  it('maps charge.dispute.created and .closed to Voltbill disputes', () => {
    expect(parseStripeEvent(disputeEvent('charge.dispute.created', 'needs_response'))).toEqual({
      ok: true,
      value: {
        eventId: 'evt_charge.dispute.created_needs_response',
        type: 'charge.dispute.created',
        createdAt: new Date(1_790_000_000_000),
        dispute: {
          providerDisputeId: 'dp_1PxYz',
          providerPaymentId: 'pi_1PxYz',
          currency: 'EUR',
          amountMinor: 1234n,
          reason: 'fraudulent',
          status: 'open',
        },
      },
    });
    const statusOf = (s: string) => {
      const parsed = parseStripeEvent(disputeEvent('charge.dispute.closed', s));
      return parsed.ok ? parsed.value.dispute?.status : parsed.error.code;
    };
    expect(statusOf('lost')).toBe('lost');
    expect(statusOf('won')).toBe('won');
    expect(statusOf('warning_closed')).toBe('won');
    expect(statusOf('under_review')).toBe('open');
  });
  it('applies the zero-decimal rule and refuses a dispute without its payment', () => {
    const jpy = parseStripeEvent(disputeEvent('charge.dispute.created', 'needs_response', 500, 'jpy'));
    expect(jpy.ok && jpy.value.dispute).toMatchObject({ currency: 'JPY', amountMinor: 500n });
    const body = JSON.parse(disputeEvent('charge.dispute.created', 'needs_response').toString());
    delete body.data.object.payment_intent;
    expect(parseStripeEvent(Buffer.from(JSON.stringify(body)))).toMatchObject({
      ok: false,
      error: { code: 'MalformedEvent' },
    });
  });
});
