/**
 * A price quote before charging (AFIR price transparency): what X kWh over Y minutes starting at a given time will
 * cost with a tariff, computed by the same pricing function as the final bill, plus the unit prices that apply
 * (per kWh, per minute, per session), excluding and including VAT. Pure.
 */
import { formatScaled, parseScaled, pow10, roundDiv } from '../shared/decimal.ts';
import type { Money } from '../shared/money.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { priceSession } from './price-session.ts';
import type { InvoiceLine, PricedSession } from './priced-session.ts';
import type { PricingError } from './pricing-error.ts';
import type { Tariff } from './tariff.ts';

export type QuoteRequest = {
  readonly startAt: Date;
  /** Energy the driver expects to charge, in Wh (exact, up to three decimals). */
  readonly energyWh: number;
  /** Minutes connected; the energy is assumed to flow evenly over them (charging the whole time). */
  readonly durationMinutes: number;
  readonly timeZone: string;
  readonly rounding: 'half-up' | 'half-even';
};

export type UnitPrice = {
  readonly dimension: InvoiceLine['dimension'];
  readonly unit: 'kWh' | 'minute' | 'session';
  /** Exact decimals; a per-minute price derived from a per-hour price is shown to 6 decimals. */
  readonly exclVat: string;
  readonly inclVat: string;
  readonly vatPercent: string | null;
};

export type Quote = {
  readonly priced: PricedSession;
  readonly unitPrices: readonly UnitPrice[];
  readonly totals: { readonly exclVat: Money; readonly inclVat: Money };
};

const PRICE_SCALE = 9;
const VAT_SCALE = 4;
const PER_MINUTE_DECIMALS = 6;

export function quoteSession(tariff: Tariff, request: QuoteRequest): Result<Quote, PricingError> {
  const endAt = new Date(request.startAt.getTime() + request.durationMinutes * 60_000);
  const priced = priceSession(
    {
      kind: 'timeline',
      timeline: {
        startedAt: request.startAt,
        endedAt: endAt,
        samples: [
          { at: request.startAt, energyWh: 0, state: 'Charging' },
          { at: endAt, energyWh: request.energyWh, state: 'Charging' },
        ],
      },
    },
    tariff,
    { timeZone: request.timeZone, rounding: request.rounding },
  );
  if (!priced.ok) return err(priced.error);
  return ok({ priced: priced.value, unitPrices: unitPricesOf(priced.value.lines), totals: priced.value.totals });
}

/** The distinct unit prices on the quote's lines, per kWh, per minute (from per hour) and per session. */
export function unitPricesOf(lines: readonly InvoiceLine[]): UnitPrice[] {
  const seen = new Set<string>();
  const prices: UnitPrice[] = [];
  for (const line of lines) {
    if (line.unitPriceExclVat === null || line.priceUnit === null) continue;
    const key = `${line.dimension}|${line.unitPriceExclVat}|${line.vatPercent}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const excl = parseScaled(line.unitPriceExclVat, PRICE_SCALE) ?? 0n;
    const vat = line.vatPercent === null ? 0n : (parseScaled(line.vatPercent, VAT_SCALE) ?? 0n);
    // incl = excl x (100 % + vat) at scale 9 + 6: exact.
    const inclScaled = excl * (100n * pow10(VAT_SCALE) + vat);
    const inclScale = PRICE_SCALE + VAT_SCALE + 2;
    if (line.priceUnit === 'hour') {
      prices.push({
        dimension: line.dimension,
        unit: 'minute',
        exclVat: perMinute(excl, PRICE_SCALE),
        inclVat: perMinute(inclScaled, inclScale),
        vatPercent: line.vatPercent,
      });
    } else {
      prices.push({
        dimension: line.dimension,
        unit: line.priceUnit,
        exclVat: trim(formatScaled(excl, PRICE_SCALE)),
        inclVat: trim(formatScaled(inclScaled, inclScale)),
        vatPercent: line.vatPercent,
      });
    }
  }
  return prices;
}

/** A per-hour price as a per-minute price, rounded to 6 decimals for display (only the bill's lines are money). */
function perMinute(perHourScaled: bigint, scale: number): string {
  const perMinuteScaled = roundDiv(perHourScaled * pow10(PER_MINUTE_DECIMALS), 60n * pow10(scale), 'half-up');
  return trim(formatScaled(perMinuteScaled, PER_MINUTE_DECIMALS));
}

/** "0.490000000" -> "0.49"; keeps at least two decimals, as prices are usually shown. */
function trim(text: string): string {
  if (!text.includes('.')) return `${text}.00`;
  const trimmed = text.replace(/0+$/, '');
  const decimals = trimmed.length - trimmed.indexOf('.') - 1;
  return decimals >= 2 ? trimmed : trimmed + '0'.repeat(2 - decimals);
}
