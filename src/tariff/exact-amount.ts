/**
 * Exact, unrounded money amounts. Every amount priced with a tariff is an integer numerator over the tariff's
 * AmountScale denominator D = 36 * 10^K (tariff.ts), chosen so that all of these are whole numbers of 1/D:
 *
 *   ENERGY  price (per kWh, K' decimals) * energy (mWh) / 10^6        -> factor 36 * 10^v per mWh
 *   TIME    price (per hour)             * time (ms)    / 3.6 * 10^6  -> factor 10 * 10^v per ms
 *   FLAT    price (per session)                                      -> factor 36 * 10^(6+v) per session
 *   incl. VAT: 10^v becomes 10^v + VAT, where 10^v is the smallest power that makes 1 + VAT/100 a whole number.
 *
 * So amounts add up exactly and each is rounded exactly once, per line, by the one rounding function (roundDiv).
 * A time-based amount may have no finite decimal expansion (1 minute at 1.00/h is 0.01666...): D has the factor 9,
 * and an amount has a finite expansion exactly when 9 divides its numerator. Such amounts are shown to
 * INFINITE_DECIMALS_SHOWN places when a decimal string is needed.
 */
import { pow10, type RoundingMode, roundDiv } from '../shared/decimal.ts';
import { type CurrencyCode, currencyExponent, type Money } from '../shared/money.ts';
import type { AmountScale } from './tariff.ts';

/** Decimal places shown for an amount with no finite decimal expansion. */
export const INFINITE_DECIMALS_SHOWN = 20;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** infiniteDecimal needs the remainder below 2^53 (36 * 10^13 is) and at least 3 digits of r / 36. */
const MAX_LONG_DIVISION_SCALE_DECIMALS = 13;
/** 36 * 10^14 is the largest amount denominator below 2^53. */
const MAX_SAFE_SCALE_DECIMALS = 14;

/** The AmountScale for K decimals: D = 36 * 10^K. */
export function amountScale(decimals: number): AmountScale {
  const denominator = 36n * pow10(decimals);
  return {
    denominator,
    decimals,
    denominatorNumber: decimals <= MAX_SAFE_SCALE_DECIMALS ? Number(denominator) : Number.NaN,
  };
}

/** Rounds an exact amount to the currency's minor unit, once, with the one rounding function. */
export function roundExactAmount(
  amount: bigint,
  scale: AmountScale,
  currency: CurrencyCode,
  mode: RoundingMode,
): Money {
  return { minor: roundDiv(amount * pow10(currencyExponent(currency)), scale.denominator, mode), currency };
}

/**
 * The amount as a plain decimal string: exact when it has a finite expansion (trailing zeros trimmed, but at least
 * `minDecimals` places), otherwise rounded with the one rounding function to INFINITE_DECIMALS_SHOWN places.
 */
export function exactAmountToDecimal(
  amount: bigint,
  scale: AmountScale,
  minDecimals: number,
  mode: RoundingMode,
): string {
  if (amount % 9n === 0n) {
    if (amount < MAX_SAFE && amount > -MAX_SAFE) {
      // Below 2^53, amount / 9 * 25 is exact in doubles (and below 2^53 * 25 / 9 < 2^55, still a whole double).
      const scaled = (Number(amount) / 9) * 25;
      if (scaled <= Number.MAX_SAFE_INTEGER && scaled >= -Number.MAX_SAFE_INTEGER) {
        return placePoint(String(scaled), scale.decimals + 2, minDecimals);
      }
    }
    return formatFixed((amount / 9n) * 25n, scale.decimals + 2, minDecimals);
  }
  if (scale.decimals <= MAX_LONG_DIVISION_SCALE_DECIMALS) return infiniteDecimal(amount, scale, mode);
  const shown = roundDiv(amount * pow10(INFINITE_DECIMALS_SHOWN), scale.denominator, mode);
  return formatFixed(shown, INFINITE_DECIMALS_SHOWN, INFINITE_DECIMALS_SHOWN);
}

/**
 * The first INFINITE_DECIMALS_SHOWN decimals of amount / D, D = 36 * 10^K, the last one rounded by the one rounding
 * function, without multi-word bigints. The fraction rem / D is (q + r / 36) / 10^K with q = rem div 36 and
 * r = rem mod 36: its first K decimals are q, and the rest are the decimals of r / 36, which repeat one digit from
 * the third on (36 = 4 * 9 and 10 = 1 mod 9). Needs K <= 13 (rem below 2^53) and K <= 17 (at least 3 digits of
 * r / 36 shown). Gives the same text as rounding amount * 10^20 / D directly (exact-amount.test.ts checks it).
 */
function infiniteDecimal(amount: bigint, scale: AmountScale, mode: RoundingMode): string {
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const whole = magnitude / scale.denominator;
  const remainder = Number(magnitude - whole * scale.denominator);
  const q = Math.floor(remainder / 36);
  const r = remainder - q * 36;
  // Decimals of r / 36: d1, d2, then d3 repeated; the remainder before every digit from the third on is r2.
  const r0 = r * 10;
  const d1 = Math.floor(r0 / 36);
  const r1 = (r0 - d1 * 36) * 10;
  const d2 = Math.floor(r1 / 36);
  const r2 = (r1 - d2 * 36) * 10;
  const d3 = Math.floor(r2 / 36);
  const tailLength = INFINITE_DECIMALS_SHOWN - scale.decimals;
  // The last shown digit, rounded from the remainder that precedes it (r2 from the third digit on).
  const last = Number(roundDiv(BigInt(r2), 36n, mode));
  if (last === 10) {
    // A carry into the digits before: rare enough to take the multi-word path.
    const shown = roundDiv(amount * pow10(INFINITE_DECIMALS_SHOWN), scale.denominator, mode);
    return formatFixed(shown, INFINITE_DECIMALS_SHOWN, INFINITE_DECIMALS_SHOWN);
  }
  const head = scale.decimals === 0 ? '' : String(q).padStart(scale.decimals, '0');
  const tail = `${d1}${d2}${String(d3).repeat(tailLength - 3)}${last}`;
  return `${negative ? '-' : ''}${whole}.${head}${tail}`;
}

/**
 * The amount as an OCPI JSON number: the double nearest to the exact value. A finite decimal of up to 15
 * significant digits prints exactly as that decimal; an amount with no finite expansion (time priced per hour)
 * prints as its closest double, e.g. 0.016666666666666666. Rounding to the currency happens on the invoice lines,
 * never here.
 */
export function exactAmountToOcpiNumber(amount: bigint, scale: AmountScale): number {
  if (amount === 0n) return 0;
  // Both integers below 2^53 are exact doubles; one correctly rounded division gives the nearest double.
  if (amount < MAX_SAFE && amount > -MAX_SAFE && scale.decimals <= MAX_SAFE_SCALE_DECIMALS) {
    return Number(amount) / scale.denominatorNumber;
  }
  // Large amounts: at most 17 significant digits matter to a double; compute them exactly, then parse.
  const magnitude = amount < 0n ? -amount : amount;
  const integerDigits = magnitude < scale.denominator ? 0 : (magnitude / scale.denominator).toString().length;
  const decimals = Math.max(0, 17 - integerDigits);
  return Number(formatFixed(roundDiv(amount * pow10(decimals), scale.denominator, 'half-even'), decimals, 0));
}

/**
 * `value` / 10^scale as a decimal string with trailing zeros trimmed to at least `minDecimals` places (at most
 * `scale`). Written for speed: it runs for every invoice line and total.
 */
export function formatFixed(value: bigint, scale: number, minDecimals: number): string {
  return placePoint(value.toString(), scale, minDecimals);
}

/** The integer written in `integerText` divided by 10^scale, as formatFixed describes. */
function placePoint(integerText: string, scale: number, minDecimals: number): string {
  const negative = integerText.charCodeAt(0) === 45;
  let digits = negative ? integerText.slice(1) : integerText;
  if (digits.length <= scale) digits = '0'.repeat(scale + 1 - digits.length) + digits;
  const point = digits.length - scale;
  const keep = Math.min(minDecimals, scale);
  let end = digits.length;
  while (end > point + keep && digits.charCodeAt(end - 1) === 48) end--;
  const whole = digits.slice(0, point);
  const text = end > point ? `${whole}.${digits.slice(point, end)}` : whole;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}
