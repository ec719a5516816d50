/**
 * Stripe's minor-unit rules, the only place they live (../shared/specs/payments.md, "Currencies"). Voltbill amounts
 * are ISO 4217 minor units; Stripe's differ for some currencies:
 * - zero-decimal at Stripe: amounts are whole units (MGA is 2-decimal in ISO, so 12345 MGA minor → 123, and a
 *   fraction of an ariary cannot be sent);
 * - three-decimal (BHD, JOD, KWD, OMR, TND): the amount must end in 0;
 * - ISK: sent as two-decimal (ISO has 0 decimals), and must be a multiple of 100.
 * A conversion that would lose or invent money is an error, never a rounding.
 */
import { type CurrencyCode, currencyExponent, type Money, parseCurrency } from '../../shared/money.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import type { ProviderError } from '../provider.ts';

export const STRIPE_ZERO_DECIMAL: ReadonlySet<string> = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
export const STRIPE_THREE_DECIMAL: ReadonlySet<string> = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** Stripe's largest amount: 8 digits in its minor unit. */
const STRIPE_MAX_AMOUNT = 99_999_999n;

/** Decimal places Stripe uses for `amount` in this currency. */
export function stripeExponent(currency: CurrencyCode): number {
  if (STRIPE_ZERO_DECIMAL.has(currency)) return 0;
  if (STRIPE_THREE_DECIMAL.has(currency)) return 3;
  if (currency === 'ISK') return 2;
  return currencyExponent(currency);
}

/** Voltbill Money → Stripe `amount` and lower-case `currency`. */
export function toStripeAmount(amount: Money): Result<{ amount: number; currency: string }, ProviderError> {
  const iso = currencyExponent(amount.currency);
  const stripe = stripeExponent(amount.currency);
  let value: bigint;
  if (stripe >= iso) value = amount.minor * 10n ** BigInt(stripe - iso);
  else {
    const divisor = 10n ** BigInt(iso - stripe);
    if (amount.minor % divisor !== 0n) {
      return invalid(`${amount.currency} is zero-decimal at Stripe: ${amount.minor} minor units are not whole units`);
    }
    value = amount.minor / divisor;
  }
  if (STRIPE_THREE_DECIMAL.has(amount.currency) && value % 10n !== 0n) {
    return invalid(`${amount.currency} amounts at Stripe must end in 0 (got ${value})`);
  }
  if (amount.currency === 'ISK' && value % 100n !== 0n) return invalid('ISK amounts at Stripe must be whole krónur');
  if (value < 0n || value > STRIPE_MAX_AMOUNT) return invalid(`amount ${value} is outside Stripe's range`);
  return ok({ amount: Number(value), currency: amount.currency.toLowerCase() });
}

/** Stripe `amount` + `currency` → Voltbill Money; an amount with a fraction of an ISO minor unit is an error. */
export function fromStripeAmount(amount: number, currencyText: string): Result<Money, ProviderError> {
  const currency = parseCurrency(currencyText.toUpperCase());
  if (!currency.ok) return invalid(`Stripe answered in unknown currency ${currencyText}`);
  if (!Number.isSafeInteger(amount) || amount < 0) return invalid(`Stripe answered with amount ${amount}`);
  const iso = currencyExponent(currency.value);
  const stripe = stripeExponent(currency.value);
  const value = BigInt(amount);
  if (iso >= stripe) return ok({ minor: value * 10n ** BigInt(iso - stripe), currency: currency.value });
  const divisor = 10n ** BigInt(stripe - iso);
  if (value % divisor !== 0n) return invalid(`Stripe amount ${amount} ${currencyText} is not a whole ISO minor unit`);
  return ok({ minor: value / divisor, currency: currency.value });
}

function invalid(message: string) {
  return err<ProviderError>({ code: 'InvalidAmount', message });
}
