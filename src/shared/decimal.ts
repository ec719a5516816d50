/**
 * Exact decimal numbers as scaled bigints: the value v is stored as the integer v * 10^scale. Parsing and
 * formatting happen only at the edges (JSON, SQL, CLI); arithmetic in between is integer arithmetic.
 */
import { assert } from './assert.ts';

export type RoundingMode = 'half-up' | 'half-even';

const DECIMAL_PATTERN = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Powers of ten as bigint, cached because pricing asks for the same few over and over. */
const POW10: bigint[] = [];
export function pow10(exponent: number): bigint {
  assert(Number.isInteger(exponent) && exponent >= 0 && exponent <= 400, `pow10 exponent out of range: ${exponent}`);
  let value = POW10[exponent];
  if (value === undefined) {
    value = 10n ** BigInt(exponent);
    POW10[exponent] = value;
  }
  return value;
}

/**
 * Parses a decimal given as text or as a JSON number into an integer scaled by 10^scale, exactly.
 * Returns undefined when the text is not a decimal or has more fractional digits than `scale` can hold
 * (a value that cannot be represented exactly is an error for the caller to report, never a silent rounding).
 * A JSON number is read through its shortest round-trip representation, which is the literal the sender wrote.
 */
export function parseScaled(input: string | number, scale: number): bigint | undefined {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return undefined;
    text = String(input);
  } else {
    text = input.trim();
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '0', fraction = '', exponentText] = match;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 300) return undefined;
  // digits * 10^(exponent - fraction.length) * 10^scale must be an integer.
  const digits = BigInt(whole + fraction);
  const shift = scale + exponent - fraction.length;
  let scaled: bigint;
  if (shift >= 0) {
    scaled = digits * pow10(shift);
  } else {
    const divisor = pow10(-shift);
    if (digits % divisor !== 0n) return undefined;
    scaled = digits / divisor;
  }
  return sign === '-' ? -scaled : scaled;
}

/** Formats an integer scaled by 10^scale as a plain decimal with exactly `decimals` places (decimals <= scale pads). */
export function formatScaled(value: bigint, scale: number, decimals: number = scale): string {
  assert(decimals >= scale || value % pow10(scale - decimals) === 0n, 'formatScaled would drop digits');
  const negative = value < 0n;
  const abs = negative ? -value : value;
  let digits = abs.toString();
  if (scale > 0) digits = digits.padStart(scale + 1, '0');
  let whole = scale > 0 ? digits.slice(0, -scale) : digits;
  let fraction = scale > 0 ? digits.slice(-scale) : '';
  if (decimals > scale) fraction = fraction.padEnd(decimals, '0');
  else fraction = fraction.slice(0, decimals);
  if (whole === '') whole = '0';
  const sign = negative && (whole !== '0' || /[1-9]/.test(fraction)) ? '-' : '';
  return decimals > 0 ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/**
 * THE rounding function of Voltbill: numerator / denominator rounded to an integer, half-up (half away from
 * zero, the commercial rule) or half-even (banker's rule). Every rounding of money goes through here, so that a
 * rounding rule is decided in exactly one place.
 */
export function roundDiv(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  assert(denominator !== 0n, 'roundDiv by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  let quotient = abs / denominator;
  const twiceRemainder = (abs % denominator) * 2n;
  if (
    twiceRemainder > denominator ||
    (twiceRemainder === denominator && (mode === 'half-up' || quotient % 2n === 1n))
  ) {
    quotient += 1n;
  }
  return negative ? -quotient : quotient;
}

/** Rescales an exact scaled value to fewer decimal places with the one rounding function. */
export function rescale(value: bigint, fromScale: number, toScale: number, mode: RoundingMode): bigint {
  if (toScale >= fromScale) return value * pow10(toScale - fromScale);
  return roundDiv(value, pow10(fromScale - toScale), mode);
}
