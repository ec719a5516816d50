/**
 * Adds the periods' volumes up per line (dimension x element; within one element each dimension has one
 * component and so one VAT rate) and prices each line once: one bigint multiplication per amount, one rounding
 * per amount. FLAT is charged once per distinct FLAT component that applies at any time in the session.
 */
import { pow10, type RoundingMode, roundDiv } from '../shared/decimal.ts';
import { type CurrencyCode, currencyExponent, type Money } from '../shared/money.ts';
import { exactAmountToDecimal } from './exact-amount.ts';
import type { InvoiceLine, InvoiceLineDimension } from './priced-session.ts';
import type { LineFactors, PriceComponent, Tariff, TariffDimensionType } from './tariff.ts';
import type { WorkPeriod } from './work-period.ts';

/** Line kinds in invoice order, with the tariff dimension whose component prices them. */
const LINE_DIMENSIONS: readonly InvoiceLineDimension[] = [
  'FLAT',
  'ENERGY',
  'TIME',
  'PARKING_TIME',
  'RESERVATION_FLAT',
  'RESERVATION_TIME',
];
const COMPONENT_TYPES: readonly TariffDimensionType[] = ['FLAT', 'ENERGY', 'TIME', 'PARKING_TIME', 'FLAT', 'TIME'];
const FLAT = 0;
const ENERGY = 1;
const TIME = 2;
const PARKING = 3;
const RESERVATION_FLAT = 4;
const RESERVATION_TIME = 5;
const KIND_COUNT = 6;

/** Exact sums (numerators over the tariff's amount denominator) per OCPI total, excluding and including VAT. */
export type ExactSubtotals = {
  readonly fixed: readonly [bigint, bigint];
  readonly energy: readonly [bigint, bigint];
  readonly time: readonly [bigint, bigint];
  readonly parking: readonly [bigint, bigint];
  readonly reservation: readonly [bigint, bigint];
};

export type BuiltLines = {
  readonly lines: InvoiceLine[];
  readonly subtotals: ExactSubtotals;
  /** Exact sums of all lines. */
  readonly exactExclVat: bigint;
  readonly exactInclVat: bigint;
  /** Sums of the rounded lines, in minor units. */
  readonly roundedExclVatMinor: bigint;
  readonly roundedInclVatMinor: bigint;
};

/** The priced lines in invoice order (kind, then element index) with exact and rounded sums. */
export function buildLines(periods: readonly WorkPeriod[], tariff: Tariff, rounding: RoundingMode): BuiltLines {
  const elementCount = tariff.elements.length;
  const size = KIND_COUNT * elementCount;
  const { measured, billed, used } = scratchFor(size);
  for (let i = 0; i < periods.length; i++) {
    const p = periods[i] as WorkPeriod;
    if (p.flatElementIndex !== null) {
      const key = (p.reservation ? RESERVATION_FLAT : FLAT) * elementCount + p.flatElementIndex;
      used[key] = 1;
      measured[key] = 1;
      billed[key] = 1;
    }
    if (p.energyElementIndex !== null) {
      const key = ENERGY * elementCount + p.energyElementIndex;
      used[key] = 1;
      measured[key] = (measured[key] as number) + p.energyMilliWh;
      billed[key] = (billed[key] as number) + p.billedEnergyMilliWh;
    }
    if (p.timeElementIndex !== null) {
      const key = TIME * elementCount + p.timeElementIndex;
      used[key] = 1;
      measured[key] = (measured[key] as number) + p.timeMs;
      billed[key] = (billed[key] as number) + p.billedTimeMs;
    }
    if (p.parkingTimeElementIndex !== null) {
      const key = PARKING * elementCount + p.parkingTimeElementIndex;
      used[key] = 1;
      measured[key] = (measured[key] as number) + p.parkingTimeMs;
      billed[key] = (billed[key] as number) + p.billedParkingTimeMs;
    }
    if (p.reservationTimeElementIndex !== null) {
      const key = RESERVATION_TIME * elementCount + p.reservationTimeElementIndex;
      used[key] = 1;
      measured[key] = (measured[key] as number) + p.reservationTimeMs;
      billed[key] = (billed[key] as number) + p.billedReservationTimeMs;
    }
  }

  const sums: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
  const lines: InvoiceLine[] = [];
  const plan = tariff.plan;
  const scale = plan.amountScale;
  const currency: CurrencyCode = tariff.currency;
  const minDecimals = currencyExponent(currency);
  const minorUnitsPerUnit = pow10(minDecimals);
  let roundedExclVatMinor = 0n;
  let roundedInclVatMinor = 0n;
  for (let kind = 0; kind < KIND_COUNT; kind++) {
    const componentType = COMPONENT_TYPES[kind] as TariffDimensionType;
    for (let element = 0; element < elementCount; element++) {
      const key = kind * elementCount + element;
      if (used[key] === 0) continue;
      const component = plan.componentOf[componentType][element] as PriceComponent;
      const factors = plan.amountPerUnit[componentType][element] as LineFactors;
      const billedVolume = billed[key] as number;
      const measuredVolume = measured[key] as number;
      const volume = BigInt(billedVolume);
      const exclVat = factors.exclVat * volume;
      const inclVat = factors.inclVat * volume;
      sums[2 * kind] = (sums[2 * kind] as bigint) + exclVat;
      sums[2 * kind + 1] = (sums[2 * kind + 1] as bigint) + inclVat;
      // Each amount is rounded once, by the one rounding function, to the currency's minor unit.
      const exclMinor = roundDiv(exclVat * minorUnitsPerUnit, scale.denominator, rounding);
      const inclMinor =
        component.vatRatePpm === null ? exclMinor : roundDiv(inclVat * minorUnitsPerUnit, scale.denominator, rounding);
      const exclMoney: Money = { minor: exclMinor, currency };
      const inclMoney: Money = { minor: inclMinor, currency };
      roundedExclVatMinor += exclMoney.minor;
      roundedInclVatMinor += inclMoney.minor;
      const unroundedExclVat = exactAmountToDecimal(exclVat, scale, minDecimals, rounding);
      const billedText = volumeText(componentType, billedVolume);
      lines.push({
        dimension: LINE_DIMENSIONS[kind] as InvoiceLineDimension,
        elementIndex: element,
        unitPriceExclVat: component.priceText,
        priceUnit: componentType === 'ENERGY' ? 'kWh' : componentType === 'FLAT' ? 'session' : 'hour',
        volume: billedText,
        // Only the last line of a dimension carries a step_size extra; the others reuse the text.
        measuredVolume: measuredVolume === billedVolume ? billedText : volumeText(componentType, measuredVolume),
        volumeUnit: componentType === 'ENERGY' ? 'kWh' : componentType === 'FLAT' ? 'session' : 's',
        vatPercent: component.vatText,
        vat: component.vatRatePpm === null ? 'not_applicable' : 'rate',
        unroundedExclVat,
        unroundedInclVat:
          component.vatRatePpm === null
            ? unroundedExclVat
            : exactAmountToDecimal(inclVat, scale, minDecimals, rounding),
        exclVat: exclMoney,
        inclVat: inclMoney,
      });
    }
  }
  const reservation: readonly [bigint, bigint] = [
    (sums[2 * RESERVATION_FLAT] as bigint) + (sums[2 * RESERVATION_TIME] as bigint),
    (sums[2 * RESERVATION_FLAT + 1] as bigint) + (sums[2 * RESERVATION_TIME + 1] as bigint),
  ];
  let exactExclVat = 0n;
  let exactInclVat = 0n;
  for (let kind = 0; kind < KIND_COUNT; kind++) {
    exactExclVat += sums[2 * kind] as bigint;
    exactInclVat += sums[2 * kind + 1] as bigint;
  }
  return {
    lines,
    subtotals: {
      fixed: [sums[2 * FLAT] as bigint, sums[2 * FLAT + 1] as bigint],
      energy: [sums[2 * ENERGY] as bigint, sums[2 * ENERGY + 1] as bigint],
      time: [sums[2 * TIME] as bigint, sums[2 * TIME + 1] as bigint],
      parking: [sums[2 * PARKING] as bigint, sums[2 * PARKING + 1] as bigint],
      reservation,
    },
    exactExclVat,
    exactInclVat,
    roundedExclVatMinor,
    roundedInclVatMinor,
  };
}

/**
 * Accumulators reused across sessions: allocating three arrays per session showed up in profiles. They are
 * cleared before each use (a memset), and buildLines never yields, so reuse is invisible to callers.
 */
let scratch = { measured: new Float64Array(64), billed: new Float64Array(64), used: new Uint8Array(64) };

function scratchFor(size: number): typeof scratch {
  if (scratch.used.length < size) {
    scratch = { measured: new Float64Array(size), billed: new Float64Array(size), used: new Uint8Array(size) };
  } else {
    scratch.measured.fill(0, 0, size);
    scratch.billed.fill(0, 0, size);
    scratch.used.fill(0, 0, size);
  }
  return scratch;
}

/**
 * A volume in engine units as an exact decimal in the line's unit: kWh for energy, seconds for time, sessions for
 * FLAT. Dividing a safe integer below 10^15 by a power of ten prints its exact decimal (at most 15 digits).
 */
function volumeText(type: TariffDimensionType, volume: number): string {
  if (type === 'ENERGY') return String(volume / 1e6);
  if (type === 'FLAT') return String(volume);
  return String(volume / 1e3);
}
