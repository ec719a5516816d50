/**
 * Exact decimals for meter readings: value = units / 10^scale with a bigint numerator, so that 0.2596 kWh,
 * 259.6 Wh and 259600 mWh are the same number and a difference of two readings is never rounded. Energy in a
 * verdict is exchanged as decimal text in Wh ("259.6"); this module parses, converts and formats it.
 */
import { MAX_DECIMAL_DIGITS, MAX_DECIMAL_EXPONENT } from './limits.ts';

export type ExactDecimal = { readonly units: bigint; readonly scale: number };

const DECIMAL_PATTERN = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a decimal literal (a JSON number or a plain decimal string such as "00000000.000"). Returns undefined for
 * anything else, or when the digits or the exponent exceed the limits (MAX_DECIMAL_DIGITS, MAX_DECIMAL_EXPONENT).
 */
export function parseExactDecimal(text: string): ExactDecimal | undefined {
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) return undefined;
  const [, sign, whole = '', fraction = '', exponentText] = match;
  if (whole.length + fraction.length > MAX_DECIMAL_DIGITS) return undefined;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  if (Math.abs(exponent) > MAX_DECIMAL_EXPONENT) return undefined;
  const units = BigInt(whole + fraction) * (sign === '-' ? -1n : 1n);
  return normalize(shift({ units, scale: fraction.length }, exponent));
}

/** Multiplies by 10^power exactly (a unit conversion such as kWh to Wh is a shift of the decimal point by 3). */
export function shift(value: ExactDecimal, power: number): ExactDecimal {
  const scale = value.scale - power;
  if (scale >= 0) return { units: value.units, scale };
  return { units: value.units * 10n ** BigInt(-scale), scale: 0 };
}

/** Removes trailing zero digits after the decimal point, so that equal values have one representation. */
export function normalize(value: ExactDecimal): ExactDecimal {
  let { units, scale } = value;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return { units, scale };
}

function align(a: ExactDecimal, b: ExactDecimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

export function subtractDecimal(a: ExactDecimal, b: ExactDecimal): ExactDecimal {
  const [x, y, scale] = align(a, b);
  return normalize({ units: x - y, scale });
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareDecimal(a: ExactDecimal, b: ExactDecimal): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Plain decimal text without exponent and without trailing zeros: "259.6", "0", "-1.25". */
export function formatDecimal(value: ExactDecimal): string {
  const { units, scale } = normalize(value);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}
