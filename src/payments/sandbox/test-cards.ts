/**
 * The sandbox recognises Stripe's test card numbers (docs: ../shared/specs/payments.md) so that code written
 * against the sandbox behaves the same against Stripe in test mode. Any other Luhn-valid number succeeds.
 */
import type { ProviderErrorCode } from '../provider.ts';

export type CardBehaviour =
  | { readonly kind: 'succeeds' }
  /** Refused when saved and when charged. */
  | { readonly kind: 'declined'; readonly code: ProviderErrorCode; readonly providerCode: string }
  /** Saved fine; an off-session charge needs the driver (3-D Secure). */
  | { readonly kind: 'requires_authentication' }
  /** Saved fine; every later charge is declined. */
  | { readonly kind: 'declines_after_save' };

export const SANDBOX_TEST_CARDS: Readonly<Record<string, CardBehaviour>> = {
  '4242424242424242': { kind: 'succeeds' },
  '4000000000000002': { kind: 'declined', code: 'CardDeclined', providerCode: 'generic_decline' },
  '4000000000009995': { kind: 'declined', code: 'InsufficientFunds', providerCode: 'insufficient_funds' },
  '4000000000000069': { kind: 'declined', code: 'ExpiredCard', providerCode: 'expired_card' },
  '4000000000000127': { kind: 'declined', code: 'IncorrectCvc', providerCode: 'incorrect_cvc' },
  '4000002500003155': { kind: 'requires_authentication' },
  '4000000000000341': { kind: 'declines_after_save' },
};

export function cardBehaviour(number: string): CardBehaviour {
  return SANDBOX_TEST_CARDS[number] ?? { kind: 'succeeds' };
}

/** Luhn check of a digit string (13–19 digits, the card number lengths of ISO/IEC 7812). */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function cardBrand(number: string): string {
  if (number.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'unknown';
}

/**
 * Whether a request body contains something shaped like a card number (13–19 digits, optionally grouped by spaces
 * or dashes, passing Luhn). Voltbill refuses such bodies: card numbers belong in the provider's hosted fields.
 */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(/\d(?:[ -]?\d){12,18}/g)) {
    if (isLuhnValid(match[0].replace(/[ -]/g, ''))) return true;
  }
  return false;
}
