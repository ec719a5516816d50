import { describe, expect, it } from 'vitest';
import { type CurrencyCode, money } from '../../shared/money.ts';
import { fromStripeAmount, toStripeAmount } from './stripe-amounts.ts';
import { mapIntentStatus, mapStripeError } from './stripe-transformers.ts';

const c = (code: string) => code as CurrencyCode;

describe('Stripe amounts', () => {
  it('passes two-decimal and zero-decimal currencies through, lower-casing the code', () => {
    expect(toStripeAmount(money(1234n, c('EUR')))).toEqual({ ok: true, value: { amount: 1234, currency: 'eur' } });
    expect(toStripeAmount(money(1500n, c('JPY')))).toEqual({ ok: true, value: { amount: 1500, currency: 'jpy' } });
  });
  it('sends MGA (2 decimals in ISO, 0 at Stripe) in whole ariary and refuses fractions', () => {
    expect(toStripeAmount(money(12_300n, c('MGA')))).toEqual({ ok: true, value: { amount: 123, currency: 'mga' } });
    const fraction = toStripeAmount(money(12_345n, c('MGA')));
    expect(!fraction.ok && fraction.error.code).toBe('InvalidAmount');
    expect(fromStripeAmount(123, 'mga')).toEqual({ ok: true, value: { minor: 12_300n, currency: 'MGA' } });
  });
  it('requires three-decimal amounts to end in 0', () => {
    expect(toStripeAmount(money(12_340n, c('KWD')))).toEqual({ ok: true, value: { amount: 12_340, currency: 'kwd' } });
    const odd = toStripeAmount(money(12_345n, c('BHD')));
    expect(!odd.ok && odd.error.code).toBe('InvalidAmount');
  });
  it('sends ISK (0 decimals in ISO) as two-decimal multiples of 100, and reads them back', () => {
    expect(toStripeAmount(money(1500n, c('ISK')))).toEqual({ ok: true, value: { amount: 150_000, currency: 'isk' } });
    expect(fromStripeAmount(150_000, 'isk')).toEqual({ ok: true, value: { minor: 1500n, currency: 'ISK' } });
    const fraction = fromStripeAmount(150_050, 'isk');
    expect(!fraction.ok && fraction.error.code).toBe('InvalidAmount');
  });
  it('refuses amounts beyond Stripe range and unknown currencies', () => {
    expect(toStripeAmount(money(100_000_000n, c('EUR'))).ok).toBe(false);
    expect(fromStripeAmount(100, 'xyz').ok).toBe(false);
    expect(fromStripeAmount(1.5, 'eur').ok).toBe(false);
  });
});

describe('Stripe transformers', () => {
  it('maps PaymentIntent statuses, unknown ones to pending, never success', () => {
    const intent = { id: 'pi', amount: 100, currency: 'eur' };
    expect(mapIntentStatus({ ...intent, status: 'requires_capture' })).toBe('authorized');
    expect(mapIntentStatus({ ...intent, status: 'succeeded', amount_received: 100 })).toBe('captured');
    expect(
      mapIntentStatus({ ...intent, status: 'succeeded', amount_received: 100, latest_charge: { amount_refunded: 40 } }),
    ).toBe('partially_refunded');
    expect(mapIntentStatus({ ...intent, status: 'canceled' })).toBe('voided');
    expect(mapIntentStatus({ ...intent, status: 'requires_action' })).toBe('requires_authentication');
    expect(mapIntentStatus({ ...intent, status: 'processing' })).toBe('pending');
    expect(mapIntentStatus({ ...intent, status: 'some_future_status' })).toBe('pending');
  });
  it('maps SDK errors onto the closed error set', () => {
    expect(
      mapStripeError({ type: 'StripeCardError', code: 'card_declined', decline_code: 'insufficient_funds' }).code,
    ).toBe('InsufficientFunds');
    expect(mapStripeError({ type: 'StripeCardError', code: 'expired_card' }).code).toBe('ExpiredCard');
    expect(mapStripeError({ type: 'StripeConnectionError', message: 'Request timed out' }).code).toBe('Timeout');
    expect(mapStripeError({ type: 'StripeAPIError' }).code).toBe('ProviderUnavailable');
    expect(mapStripeError({ type: 'StripeIdempotencyError' }).code).toBe('IdempotencyConflict');
    // The same key in use by a request still in progress: its outcome unknown, whichever type Stripe gives it.
    for (const type of ['StripeIdempotencyError', 'StripeInvalidRequestError']) {
      expect(mapStripeError({ type, code: 'idempotency_key_in_use' }).code).toBe('ProviderUnavailable');
    }
    expect(mapStripeError({ type: 'StripeInvalidRequestError', code: 'resource_missing' }).code).toBe('NotFound');
    expect(mapStripeError(new Error('boom')).code).toBe('InvalidRequest');
  });
});
