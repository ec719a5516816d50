/**
 * The OCPI 2.2.1 CDR pricing fields of a priced session.
 *
 * Money totals are the exact amounts as the nearest JSON number (exact-amount.ts: the exact decimal whenever it has
 * at most 15 significant digits). Quantities are JSON numbers too: kWh exact (1 mWh = 0.000001 kWh), hours exact
 * when the duration is a whole multiple of 3.6 ms and otherwise to 9 decimals (3.6 µs), which is the closest
 * OCPI's hour unit can come to a millisecond.
 */
import type { ExactSubtotals } from './build-lines.ts';
import { exactAmountToOcpiNumber } from './exact-amount.ts';
import { formatUtcIso } from './format-utc.ts';
import type { OcpiCdrDimension, OcpiChargingPeriod, OcpiPrice, OcpiPricedCdr } from './priced-session.ts';
import type { CdrChargingPeriod, CdrDimensionType } from './pricing-input.ts';
import type { AmountScale, Tariff } from './tariff.ts';
import type { WorkPeriod } from './work-period.ts';

export type CdrFacts = {
  readonly startedMs: number;
  readonly endedMs: number;
  /** The effective session span (see normalize-cdr-periods.ts), whose length is total_time. */
  readonly sessionStartMs: number;
  readonly sessionEndMs: number;
  readonly subtotals: ExactSubtotals;
  readonly totalExclVat: bigint;
  readonly totalInclVat: bigint;
  /** The CDR input's own periods, echoed as the priced periods; undefined for a timeline. */
  readonly sourcePeriods: readonly CdrChargingPeriod[] | undefined;
};

export function buildOcpiCdr(periods: readonly WorkPeriod[], tariff: Tariff, facts: CdrFacts): OcpiPricedCdr {
  let energyMilliWh = 0;
  let parkingMs = 0;
  for (const period of periods) {
    energyMilliWh += period.energyMilliWh;
    parkingMs += period.parkingTimeMs;
  }
  const scale = tariff.plan.amountScale;
  const s = facts.subtotals;
  return {
    start_date_time: formatUtcIso(facts.startedMs),
    end_date_time: formatUtcIso(facts.endedMs),
    currency: tariff.currency,
    tariffs: [tariff.ocpi],
    charging_periods:
      facts.sourcePeriods === undefined
        ? timelinePeriods(periods, tariff)
        : echoedPeriods(facts.sourcePeriods, tariff.id),
    total_cost: price([facts.totalExclVat, facts.totalInclVat], scale),
    total_fixed_cost: price(s.fixed, scale),
    total_energy: kilowattHours(energyMilliWh),
    total_energy_cost: price(s.energy, scale),
    total_time: hours(facts.sessionEndMs - facts.sessionStartMs),
    total_time_cost: price(s.time, scale),
    total_parking_time: hours(parkingMs),
    total_parking_cost: price(s.parking, scale),
    total_reservation_cost: price(s.reservation, scale),
  };
}

function price(amounts: readonly [bigint, bigint], scale: AmountScale): OcpiPrice {
  return {
    excl_vat: exactAmountToOcpiNumber(amounts[0], scale),
    incl_vat: exactAmountToOcpiNumber(amounts[1], scale),
  };
}

function timelinePeriods(periods: readonly WorkPeriod[], tariff: Tariff): OcpiChargingPeriod[] {
  const out: OcpiChargingPeriod[] = new Array(periods.length);
  const withPower = tariff.plan.usesPower;
  const withCurrent = tariff.plan.usesCurrent;
  for (let i = 0; i < periods.length; i++) {
    out[i] = timelinePeriod(periods[i] as WorkPeriod, tariff.id, withPower, withCurrent);
  }
  return out;
}

/**
 * A cut timeline period as an OCPI ChargingPeriod: its ENERGY, its TIME or PARKING_TIME, and, when the tariff
 * restricts on them, the measured range of power and current (MIN_/MAX_ dimensions) that the restrictions were
 * evaluated on, so that pricing this CDR again gives the same result. A period with none of these (not billed, no energy) carries ENERGY 0, because OCPI
 * requires at least one dimension.
 */
function timelinePeriod(
  period: WorkPeriod,
  tariffId: string,
  withPower: boolean,
  withCurrent: boolean,
): OcpiChargingPeriod {
  const dimensions: OcpiCdrDimension[] = [];
  if (period.energyMilliWh > 0) dimensions.push({ type: 'ENERGY', volume: kilowattHours(period.energyMilliWh) });
  if (period.timeMs > 0) dimensions.push({ type: 'TIME', volume: hours(period.timeMs) });
  if (period.parkingTimeMs > 0) dimensions.push({ type: 'PARKING_TIME', volume: hours(period.parkingTimeMs) });
  if (withPower && !Number.isNaN(period.minPowerW)) {
    dimensions.push({ type: 'MIN_POWER', volume: period.minPowerW / 1000 });
    dimensions.push({ type: 'MAX_POWER', volume: period.maxPowerW / 1000 });
  }
  if (withCurrent && !Number.isNaN(period.minCurrentA)) {
    dimensions.push({ type: 'MIN_CURRENT', volume: period.minCurrentA });
    dimensions.push({ type: 'MAX_CURRENT', volume: period.maxCurrentA });
  }
  if (dimensions.length === 0) dimensions.push({ type: 'ENERGY', volume: 0 });
  return { start_date_time: formatUtcIso(period.startMs), dimensions, tariff_id: tariffId };
}

function echoedPeriods(periods: readonly CdrChargingPeriod[], tariffId: string): OcpiChargingPeriod[] {
  const out: OcpiChargingPeriod[] = new Array(periods.length);
  for (let i = 0; i < periods.length; i++) {
    const period = periods[i] as CdrChargingPeriod;
    const dimensions: OcpiCdrDimension[] = new Array(period.dimensions.length);
    for (let j = 0; j < dimensions.length; j++) {
      const dimension = period.dimensions[j] as CdrChargingPeriod['dimensions'][number];
      dimensions[j] = { type: dimension.type as CdrDimensionType, volume: Number(dimension.volume) };
    }
    out[i] = {
      start_date_time: formatUtcIso(period.startedAt.getTime()),
      dimensions,
      tariff_id: period.tariffId ?? tariffId,
    };
  }
  return out;
}

/** mWh as kWh; exact, since mWh / 10^6 of a safe integer below 10^15 prints as its decimal. */
function kilowattHours(milliWh: number): number {
  return milliWh / 1e6;
}

/** ms as hours: exact when the decimal has at most 9 places (ms divisible by 9 or finer), else rounded to 9 places. */
function hours(ms: number): number {
  return Math.round((ms * 1000) / 3.6) / 1e9;
}
