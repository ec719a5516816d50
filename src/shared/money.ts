/**
 * Money is an integer number of minor units of one ISO 4217 currency. No float ever holds an amount.
 * Unit prices, tax rates and unrounded amounts are exact scaled decimals (decimal.ts) until the one rounding
 * function turns them into minor units.
 */
import { assert } from './assert.ts';
import { formatScaled, parseScaled, type RoundingMode, rescale } from './decimal.ts';
import { ISO_4217_EXPONENTS } from './iso4217.ts';
import { err, ok, type Result } from './result.ts';

declare const currencyBrand: unique symbol;
/** An ISO 4217 alphabetic code known to have a minor unit (checked by parseCurrency). */
export type CurrencyCode = string & { readonly [currencyBrand]: true };

export type Money = { readonly minor: bigint; readonly currency: CurrencyCode };

export type UnknownCurrency = { code: 'UnknownCurrency'; currency: string; message: string };

/** Accepts only ISO 4217 codes that have a minor unit; 'XAU' or 'EURO' are refused with a remedy. */
export function parseCurrency(code: string): Result<CurrencyCode, UnknownCurrency> {
  if (Object.hasOwn(ISO_4217_EXPONENTS, code)) return ok(code as CurrencyCode);
  return err({
    code: 'UnknownCurrency',
    currency: code,
    message: `unknown currency '${code}': use an ISO 4217 alphabetic code with a minor unit, e.g. EUR`,
  });
}

/** Decimal places of the currency's minor unit (EUR 2, JPY 0, KWD 3, CLF 4). */
export function currencyExponent(currency: CurrencyCode): number {
  const exponent = ISO_4217_EXPONENTS[currency];
  assert(exponent !== undefined, `currency ${currency} was not parsed with parseCurrency`);
  return exponent;
}

export function money(minor: bigint, currency: CurrencyCode): Money {
  return { minor, currency };
}

export function zeroMoney(currency: CurrencyCode): Money {
  return { minor: 0n, currency };
}

export function addMoney(a: Money, b: Money): Money {
  assert(a.currency === b.currency, `cannot add ${a.currency} to ${b.currency}`);
  return { minor: a.minor + b.minor, currency: a.currency };
}

/** Rounds an exact value scaled by 10^scale to the currency's minor unit with the one rounding function. */
export function moneyFromScaled(value: bigint, scale: number, currency: CurrencyCode, mode: RoundingMode): Money {
  return { minor: rescale(value, scale, currencyExponent(currency), mode), currency };
}

/** "12.34" for 1234 EUR cents; "1234" for 1234 JPY. */
export function formatMoney(amount: Money): string {
  const exponent = currencyExponent(amount.currency);
  return formatScaled(amount.minor, exponent, exponent);
}

/** Parses "12.34" EUR into 1234 minor units; more decimals than the currency has is an error, never a rounding. */
export function parseMoney(text: string | number, currency: CurrencyCode): Money | undefined {
  const minor = parseScaled(text, currencyExponent(currency));
  return minor === undefined ? undefined : { minor, currency };
}

/** JSON-safe form for APIs and stored documents: the amount as a decimal string, never a JS number. */
export function moneyToJson(amount: Money): { amount: string; currency: string } {
  return { amount: formatMoney(amount), currency: amount.currency };
}
