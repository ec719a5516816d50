/**
 * Derives the PricingPlan of a tariff: which elements can price which dimension (in list order), and every
 * boundary at which a restriction can change its outcome. Done once per tariff so that pricing a session only
 * walks short integer arrays.
 */
import { pow10, type RoundingMode } from '../shared/decimal.ts';
import type { CurrencyCode } from '../shared/money.ts';
import { DAY_MS } from './compile-restrictions.ts';
import { amountScale, roundExactAmount } from './exact-amount.ts';
import type {
  LineFactors,
  PriceComponent,
  PriceLimitAmount,
  PricingPlan,
  TariffDimensionType,
  TariffElement,
  TariffPrice,
} from './tariff.ts';
import { PRICE_SCALE } from './tariff.ts';

/** Exact amount of one engine unit (mWh, ms, session) per price unit, before the VAT power (see exact-amount.ts). */
const UNIT_FACTOR: Readonly<Record<TariffDimensionType, bigint>> = {
  ENERGY: 36n,
  TIME: 10n,
  PARKING_TIME: 10n,
  FLAT: 36_000_000n,
};
const PPM_DIGITS = 6;

export function buildPricingPlan(
  elements: readonly TariffElement[],
  validFromMs: number,
  validUntilMs: number,
  minPrice: TariffPrice | undefined,
  maxPrice: TariffPrice | undefined,
  currency: CurrencyCode,
): PricingPlan {
  const none = (): (PriceComponent | undefined)[] => new Array(elements.length).fill(undefined);
  const componentOf: Record<TariffDimensionType, (PriceComponent | undefined)[]> = {
    ENERGY: none(),
    FLAT: none(),
    PARKING_TIME: none(),
    TIME: none(),
  };
  const timeOfDay = new Set<number>();
  const durations = new Set<number>();
  const energies = new Set<number>();
  const powers = new Set<number>();
  const currents = new Set<number>();
  let usesLocalTime = false;
  let usesPower = false;
  let usesCurrent = false;
  let hasVat = false;

  elements.forEach((element, index) => {
    for (const component of element.price_components) {
      // parse-tariff.ts rejects a second component of the same type in one element, so this never overwrites.
      componentOf[component.type][index] = component;
      if (component.vatRatePpm !== null) hasVat = true;
    }
    const r = element.compiled;
    if (r.timeWindow !== 'none') {
      usesLocalTime = true;
      for (const ms of [r.startTimeOfDayMs, r.endTimeOfDayMs]) if (ms > 0 && ms < DAY_MS) timeOfDay.add(ms);
    }
    if (r.startDay !== Number.NEGATIVE_INFINITY || r.endDay !== Number.POSITIVE_INFINITY || r.dayOfWeekMask !== 127) {
      usesLocalTime = true;
    }
    for (const ms of [r.minDurationMs, r.maxDurationMs]) if (Number.isFinite(ms)) durations.add(ms);
    for (const mWh of [r.minEnergyMilliWh, r.maxEnergyMilliWh]) if (Number.isFinite(mWh)) energies.add(mWh);
    for (const watts of [r.minPowerW, r.maxPowerW]) {
      if (watts !== null) {
        usesPower = true;
        powers.add(watts);
      }
    }
    for (const amperes of [r.minCurrentA, r.maxCurrentA]) {
      if (amperes !== null) {
        usesCurrent = true;
        currents.add(amperes);
      }
    }
  });

  const withComponent = (type: TariffDimensionType, keep: (element: TariffElement) => boolean): number[] =>
    elements.flatMap((element, index) => (componentOf[type][index] !== undefined && keep(element) ? [index] : []));
  const normal = (e: TariffElement) => e.compiled.reservation === null;
  const used = (e: TariffElement) => e.compiled.reservation === 'RESERVATION';
  const expires = (e: TariffElement) => e.compiled.reservation === 'RESERVATION_EXPIRES';
  const ascending = (values: Set<number>) => [...values].sort((a, b) => a - b);

  // The smallest exact unit for this tariff: as many price decimals as its most precise price, as many VAT
  // decimals as its most precise 1 + VAT/100 factor.
  const prices: bigint[] = elements.flatMap((e) => e.price_components.map((c) => c.priceNanoPerUnit));
  for (const limit of [minPrice, maxPrice]) if (limit) prices.push(limit.exclVatNano, limit.inclVatNano);
  const priceDecimals = Math.max(0, ...prices.map((nano) => PRICE_SCALE - trailingZeros(nano, PRICE_SCALE)));
  const vatFactorsPpm = elements.flatMap((e) => e.price_components.map((c) => 1_000_000n + (c.vatRatePpm ?? 0n)));
  const vatDecimals = Math.max(0, ...vatFactorsPpm.map((f) => PPM_DIGITS - trailingZeros(f, PPM_DIGITS)));
  const scale = amountScale(priceDecimals + 6 + vatDecimals);
  const priceUnitDivisor = pow10(PRICE_SCALE - priceDecimals);
  const vatPower = pow10(vatDecimals);
  const vatDivisor = pow10(PPM_DIGITS - vatDecimals);
  const factorsOf = (type: TariffDimensionType): (LineFactors | undefined)[] =>
    componentOf[type].map((component) => {
      if (component === undefined) return undefined;
      const perUnit = (component.priceNanoPerUnit / priceUnitDivisor) * UNIT_FACTOR[type];
      const vat = component.vatRatePpm === null ? 0n : component.vatRatePpm / vatDivisor;
      return { exclVat: perUnit * vatPower, inclVat: perUnit * (vatPower + vat) };
    });
  const limitAmount = (limit: TariffPrice | undefined): PriceLimitAmount | null => {
    if (limit === undefined) return null;
    const exclVat = (limit.exclVatNano / priceUnitDivisor) * UNIT_FACTOR.FLAT * vatPower;
    const inclVat = (limit.inclVatNano / priceUnitDivisor) * UNIT_FACTOR.FLAT * vatPower;
    // Rounded once here, with the one rounding function, instead of once per priced session.
    const minor = (mode: RoundingMode) => ({
      exclVat: roundExactAmount(exclVat, scale, currency, mode).minor,
      inclVat: roundExactAmount(inclVat, scale, currency, mode).minor,
    });
    return { exclVat, inclVat, minorByMode: { 'half-up': minor('half-up'), 'half-even': minor('half-even') } };
  };

  return {
    restrictions: elements.map((element) => element.compiled),
    energyCandidates: withComponent('ENERGY', normal),
    timeCandidates: withComponent('TIME', normal),
    parkingCandidates: withComponent('PARKING_TIME', normal),
    flatCandidates: withComponent('FLAT', normal),
    reservationTimeCandidates: withComponent('TIME', used),
    reservationFlatCandidates: withComponent('FLAT', used),
    // OCPI: "the time based cost of an expired reservation will be calculated based on the RESERVATION_EXPIRES
    // TariffElement". Voltbill applies the same preference to FLAT, so an expiry fee wins over a booking fee.
    expiredReservationTimeCandidates: [...withComponent('TIME', expires), ...withComponent('TIME', used)],
    expiredReservationFlatCandidates: [...withComponent('FLAT', expires), ...withComponent('FLAT', used)],
    componentOf,
    timeOfDayBoundariesMs: ascending(timeOfDay),
    usesLocalTime,
    durationBoundariesMs: ascending(durations),
    energyBoundariesMilliWh: ascending(energies),
    usesPower,
    usesCurrent,
    powerBoundsW: ascending(powers),
    currentBoundsA: ascending(currents),
    validFromMs,
    validUntilMs,
    hasVat,
    amountScale: scale,
    amountPerUnit: {
      ENERGY: factorsOf('ENERGY'),
      TIME: factorsOf('TIME'),
      PARKING_TIME: factorsOf('PARKING_TIME'),
      FLAT: factorsOf('FLAT'),
    },
    minPriceAmount: limitAmount(minPrice),
    maxPriceAmount: limitAmount(maxPrice),
  };
}

/** How many of the last `max` decimal digits of `value` are zero (all of them for 0). */
function trailingZeros(value: bigint, max: number): number {
  if (value === 0n) return max;
  let zeros = 0;
  let rest = value < 0n ? -value : value;
  while (zeros < max && rest % 10n === 0n) {
    rest /= 10n;
    zeros++;
  }
  return zeros;
}
