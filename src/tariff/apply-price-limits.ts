/**
 * min_price / max_price: the session total is clamped, excluding VAT and including VAT independently (OCPI 2.2.1
 * notes on Tariff). The per-dimension sub-totals stay as computed; the clamp is an adjustment line of its own,
 * MIN_PRICE or MAX_PRICE, so that the invoice adds up.
 *
 * The clamp is applied on both levels, consistently: to the exact total (what the CDR's total_cost shows) and to
 * the sum of the rounded lines against the rounded limit (what the driver pays), so that a clamped rounded total
 * is exactly the rounded limit. A line is emitted when either level needs an adjustment; a side that needs none
 * is zero. The adjustment's own VAT is implied: the difference of the limit including and excluding VAT.
 */
import type { RoundingMode } from '../shared/decimal.ts';
import { currencyExponent } from '../shared/money.ts';
import { exactAmountToDecimal } from './exact-amount.ts';
import type { InvoiceLine } from './priced-session.ts';
import type { Tariff } from './tariff.ts';

export type SessionTotals = {
  readonly exactExclVat: bigint;
  readonly exactInclVat: bigint;
  readonly roundedExclVatMinor: bigint;
  readonly roundedInclVatMinor: bigint;
};

/** Appends the adjustment lines (if any) to `lines` and returns the totals after the clamp. */
export function applyPriceLimits(
  tariff: Tariff,
  totals: SessionTotals,
  rounding: RoundingMode,
  lines: InvoiceLine[],
): SessionTotals {
  const plan = tariff.plan;
  if (plan.minPriceAmount === null && plan.maxPriceAmount === null) return totals;
  let { exactExclVat, exactInclVat, roundedExclVatMinor, roundedInclVatMinor } = totals;
  const limits = [
    ['MIN_PRICE', plan.minPriceAmount],
    ['MAX_PRICE', plan.maxPriceAmount],
  ] as const;
  for (const [dimension, limit] of limits) {
    if (limit === null) continue;
    const isMinimum = dimension === 'MIN_PRICE';
    const limitMinor = limit.minorByMode[rounding];
    const excl = adjustment(exactExclVat, roundedExclVatMinor, limit.exclVat, limitMinor.exclVat, isMinimum);
    const incl = adjustment(exactInclVat, roundedInclVatMinor, limit.inclVat, limitMinor.inclVat, isMinimum);
    if (excl.exact === 0n && excl.minor === 0n && incl.exact === 0n && incl.minor === 0n) continue;
    exactExclVat += excl.exact;
    exactInclVat += incl.exact;
    roundedExclVatMinor += excl.minor;
    roundedInclVatMinor += incl.minor;
    const decimals = currencyExponent(tariff.currency);
    lines.push({
      dimension,
      elementIndex: null,
      unitPriceExclVat: null,
      priceUnit: null,
      volume: '1',
      measuredVolume: '1',
      volumeUnit: 'session',
      vatPercent: null,
      vat: 'implied',
      unroundedExclVat: exactAmountToDecimal(excl.exact, plan.amountScale, decimals, rounding),
      unroundedInclVat: exactAmountToDecimal(incl.exact, plan.amountScale, decimals, rounding),
      exclVat: { minor: excl.minor, currency: tariff.currency },
      inclVat: { minor: incl.minor, currency: tariff.currency },
    });
  }
  return { exactExclVat, exactInclVat, roundedExclVatMinor, roundedInclVatMinor };
}

/**
 * What must be added to reach the limit (positive for a minimum, negative for a maximum), exactly and in minor
 * units. The rounded limit was rounded once, when the tariff was parsed, with the one rounding function.
 */
function adjustment(
  exactTotal: bigint,
  roundedTotalMinor: bigint,
  exactLimit: bigint,
  roundedLimit: bigint,
  isMinimum: boolean,
): { exact: bigint; minor: bigint } {
  const exactNeeded = isMinimum ? exactTotal < exactLimit : exactTotal > exactLimit;
  const roundedNeeded = isMinimum ? roundedTotalMinor < roundedLimit : roundedTotalMinor > roundedLimit;
  return {
    exact: exactNeeded ? exactLimit - exactTotal : 0n,
    minor: roundedNeeded ? roundedLimit - roundedTotalMinor : 0n,
  };
}
