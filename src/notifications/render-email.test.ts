import { describe, expect, it } from 'vitest';
import { renderEmail } from './render-email.ts';

describe('notification e-mails', () => {
  it('renders the dunning notice with the amount and the pay link', () => {
    const mail = renderEmail('payment.dunning_notice', {
      paymentId: 'p-1',
      amount: { amount: '6.25', minor: '625', currency: 'EUR' },
      failureCode: 'CardDeclined',
      payUrl: 'https://cpo.example/pay-invoice/abc.def',
      expiresAt: '2026-12-03T10:00:00.000Z',
    });
    expect(mail?.subject).toBe('Payment failed: 6.25 EUR due');
    expect(mail?.text).toContain('Pay now with a card of your choice: https://cpo.example/pay-invoice/abc.def');
    expect(mail?.text).toContain('Reason: CardDeclined.');
  });
  it('tells the driver which cards are blocked and unblocked; disputes go to operators only', () => {
    expect(renderEmail('tokens.blocked', { last4: '0341', reason: 'CardDeclined', idTags: ['A1', 'B2'] })?.text).toBe(
      'Your card ending in 0341 could not be charged (CardDeclined). Charging cards A1, B2 cannot start sessions until the open amount is paid.',
    );
    expect(renderEmail('tokens.unblocked', { idTags: ['A1'] })?.subject).toBe('Your charging cards work again');
    expect(renderEmail('dispute.opened', {})).toBeUndefined();
    expect(renderEmail('dispute.closed', {})).toBeUndefined();
  });
});
