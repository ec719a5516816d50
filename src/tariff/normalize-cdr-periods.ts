/**
 * Turns an OCPI CDR's charging periods into classified WorkPeriods. The periods are taken as well-formed (OCPI
 * requires a new period whenever an element or dimension changes), so restrictions are evaluated once, at each
 * period's start: its local time, the cumulative ENERGY of the periods before it, the time since the session
 * started, and the period's power/current dimensions. The volumes are priced as given.
 *
 * Decisions (docs/tariffs.md):
 * - The session starts at the earlier of start_date_time and the first period's start, and ends at the later of
 *   end_date_time and the last period's start; periods outside [start, end] raise the warning
 *   `periods_outside_start_end_date_time` (as tandemdrive's pricer does) and are still priced.
 * - A period with RESERVATION_TIME is a reservation period; one that also has ENERGY, TIME or PARKING_TIME is
 *   refused. A CDR with reservation periods and no other period is an expired reservation.
 * - Power restrictions read MIN_POWER (for min_power) and MAX_POWER (for max_power), falling back to POWER; current
 *   restrictions likewise with MIN_CURRENT, MAX_CURRENT and CURRENT.
 * - Energy is exact to 1 mWh and time to 1 ms. A volume finer than that (e.g. 0.0833333333 h) is rounded to the
 *   nearest mWh/ms with the one rounding function and reported in a `volume_rounded` warning.
 * - Dimension types unknown to OCPI 2.2.1 are ignored with a `dimension_ignored` warning.
 */
import { parseScaled, type RoundingMode, roundDiv } from '../shared/decimal.ts';
import { PRICING_LIMITS, PricingFailure } from './pricing-error.ts';
import { CDR_DIMENSION_TYPES, type CdrChargingPeriod, type CdrDimensionType } from './pricing-input.ts';
import { ElementSelector, newInstantContext } from './select-element.ts';
import type { Tariff } from './tariff.ts';
import { buildWallClockSpans, WallClockCursor } from './wall-clock.ts';
import { newWorkPeriod, type WorkPeriod } from './work-period.ts';
import type { ZoneOffsets } from './zone-offsets.ts';

/** Volumes are read with up to this many decimals before conversion to mWh / ms. */
const VOLUME_SCALE = 20;
const VOLUME_UNIT = 10n ** BigInt(VOLUME_SCALE);
/** kWh at VOLUME_SCALE to mWh: divide by 10^14. Hours at VOLUME_SCALE to ms: multiply by 36, divide by 10^15. */
const KWH_TO_MILLI_WH_DIVISOR = 10n ** 14n;
const HOURS_TO_MS_DIVISOR = 10n ** 15n;
/** Largest volume accepted in a period: 10^9 kWh or 10^6 hours keep all sums far inside safe integers. */
const MAX_KWH = 1e9;
const MAX_HOURS = 1e6;
const MAX_ENERGY_MILLI_WH = MAX_KWH * 1e6;
const MAX_DURATION_MS = MAX_HOURS * 3.6e6;

export type CdrPeriodsInput = {
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly periods: readonly CdrChargingPeriod[];
};

export type NormalizedCdr = {
  readonly periods: WorkPeriod[];
  /** Effective session start and end (see the decisions above). */
  readonly startMs: number;
  readonly endMs: number;
};

/** Validates, converts and classifies; throws PricingFailure (CdrInvalid, InputTooLarge) on the first problem. */
export function normalizeCdrPeriods(
  input: CdrPeriodsInput,
  tariff: Tariff,
  zone: ZoneOffsets,
  rounding: RoundingMode,
  warnings: string[],
): NormalizedCdr {
  const startedMs = input.startedAt.getTime();
  const endedMs = input.endedAt.getTime();
  if (Number.isNaN(startedMs)) invalid('$.start_date_time', 'expected a valid date-time');
  if (Number.isNaN(endedMs)) invalid('$.end_date_time', 'expected a valid date-time');
  if (endedMs < startedMs) invalid('$.end_date_time', 'must not be before start_date_time');
  const count = input.periods.length;
  if (count === 0) invalid('$.charging_periods', 'expected at least one charging period');
  if (count > PRICING_LIMITS.maxCdrPeriods) {
    throw new PricingFailure({
      code: 'InputTooLarge',
      path: '$.charging_periods',
      message: `at most ${PRICING_LIMITS.maxCdrPeriods} charging periods`,
    });
  }

  const periods: WorkPeriod[] = [];
  let previousStartMs = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const source = input.periods[i] as CdrChargingPeriod;
    const periodStartMs = source.startedAt.getTime();
    if (Number.isNaN(periodStartMs)) invalid(`$.charging_periods[${i}].start_date_time`, 'expected a valid date-time');
    if (periodStartMs < previousStartMs) {
      invalid(`$.charging_periods[${i}].start_date_time`, 'charging periods must be in time order');
    }
    previousStartMs = periodStartMs;
    periods.push(readPeriod(source, i, periodStartMs, rounding, warnings));
  }

  const firstStartMs = (periods[0] as WorkPeriod).startMs;
  const lastStartMs = (periods[count - 1] as WorkPeriod).startMs;
  const startMs = Math.min(startedMs, firstStartMs);
  const endMs = Math.max(endedMs, lastStartMs);
  if (firstStartMs < startedMs || lastStartMs > endedMs) warnings.push('periods_outside_start_end_date_time');
  if (endMs - startMs > PRICING_LIMITS.maxSessionMs) {
    throw new PricingFailure({
      code: 'InputTooLarge',
      path: '$.end_date_time',
      message: `a session may last at most ${PRICING_LIMITS.maxSessionMs / 86_400_000} days`,
    });
  }
  for (let i = 0; i < count; i++) {
    (periods[i] as WorkPeriod).endMs = i + 1 < count ? (periods[i + 1] as WorkPeriod).startMs : endMs;
  }

  classify(periods, tariff, zone, startMs, endMs);
  return { periods, startMs, endMs };
}

/** Bit per OCPI dimension type, to find a type given twice without allocating a set per period. */
const DIMENSION_BIT: Readonly<Record<string, number>> = Object.assign(
  Object.create(null) as Record<string, number>,
  Object.fromEntries(CDR_DIMENSION_TYPES.map((type, index) => [type, 1 << index])),
);

function readPeriod(
  source: CdrChargingPeriod,
  index: number,
  startMs: number,
  rounding: RoundingMode,
  warnings: string[],
): WorkPeriod {
  const period = newWorkPeriod(startMs, startMs);
  const dimensions = source.dimensions;
  if (!Array.isArray(dimensions)) invalid(`$.charging_periods[${index}].dimensions`, 'expected an array');
  let seen = 0;
  let power = Number.NaN;
  let current = Number.NaN;
  let hasNormalDimension = false;
  let hasReservation = false;
  for (let j = 0; j < dimensions.length; j++) {
    const dimension = dimensions[j] as CdrChargingPeriod['dimensions'][number];
    const type = dimension.type;
    const bit = DIMENSION_BIT[type];
    if (bit === undefined) {
      warnings.push(
        `dimension_ignored: ${dimensionPath(index, j)}.type: ${JSON.stringify(type)} is not an OCPI 2.2.1 type`,
      );
      continue;
    }
    if ((seen & bit) !== 0) invalid(`${dimensionPath(index, j)}.type`, `${type} appears twice in one period`);
    seen |= bit;
    const volume = dimension.volume;
    switch (type as CdrDimensionType) {
      case 'ENERGY':
        hasNormalDimension = true;
        period.energyMilliWh = readEnergy(volume, index, j, rounding, warnings);
        break;
      case 'TIME':
        hasNormalDimension = true;
        period.timeMs = readHours(volume, index, j, rounding, warnings);
        break;
      case 'PARKING_TIME':
        hasNormalDimension = true;
        period.parkingTimeMs = readHours(volume, index, j, rounding, warnings);
        break;
      case 'RESERVATION_TIME':
        hasReservation = true;
        period.reservationTimeMs = readHours(volume, index, j, rounding, warnings);
        break;
      case 'POWER':
        power = readKilowattsAsWatts(volume, index, j);
        break;
      case 'MIN_POWER':
        period.minPowerW = readKilowattsAsWatts(volume, index, j);
        break;
      case 'MAX_POWER':
        period.maxPowerW = readKilowattsAsWatts(volume, index, j);
        break;
      case 'CURRENT':
        current = readPlainNumber(volume, index, j);
        break;
      case 'MIN_CURRENT':
        period.minCurrentA = readPlainNumber(volume, index, j);
        break;
      case 'MAX_CURRENT':
        period.maxCurrentA = readPlainNumber(volume, index, j);
        break;
      default:
        // ENERGY_EXPORT, ENERGY_IMPORT and STATE_OF_CHARGE carry information but no OCPI 2.2.1 price.
        readPlainNumber(volume, index, j);
        break;
    }
  }
  if (hasReservation && hasNormalDimension) {
    invalid(
      `$.charging_periods[${index}].dimensions`,
      'a period cannot hold RESERVATION_TIME together with ENERGY, TIME or PARKING_TIME',
    );
  }
  period.reservation = hasReservation;
  if (Number.isNaN(period.minPowerW)) period.minPowerW = power;
  if (Number.isNaN(period.maxPowerW)) period.maxPowerW = power;
  if (Number.isNaN(period.minCurrentA)) period.minCurrentA = current;
  if (Number.isNaN(period.maxCurrentA)) period.maxCurrentA = current;
  return period;
}

function dimensionPath(index: number, j: number): string {
  return `$.charging_periods[${index}].dimensions[${j}]`;
}

/** kWh to mWh. A JSON number with at most 6 decimals converts exactly in doubles; anything else goes through bigints. */
function readEnergy(value: unknown, index: number, j: number, rounding: RoundingMode, warnings: string[]): number {
  let milliWh: number;
  const fast = typeof value === 'number' && value >= 0 && value <= MAX_KWH ? Math.round(value * 1e6) : -1;
  if (fast >= 0 && fast / 1e6 === value) {
    milliWh = fast;
  } else {
    const path = `${dimensionPath(index, j)}.volume`;
    milliWh = toEngineUnits(readVolume(value, path), 1n, KWH_TO_MILLI_WH_DIVISOR, rounding, path, 'kWh', warnings);
  }
  if (milliWh > MAX_ENERGY_MILLI_WH) invalid(`${dimensionPath(index, j)}.volume`, `expected at most ${MAX_KWH} kWh`);
  return milliWh;
}

/** Hours to ms. A JSON number with at most 7 decimals that is a whole number of ms converts exactly in doubles. */
function readHours(value: unknown, index: number, j: number, rounding: RoundingMode, warnings: string[]): number {
  let ms: number;
  const tenMillionths = typeof value === 'number' && value >= 0 && value <= MAX_HOURS ? Math.round(value * 1e7) : -1;
  if (tenMillionths >= 0 && tenMillionths / 1e7 === value && (tenMillionths * 36) % 100 === 0) {
    ms = (tenMillionths * 36) / 100;
  } else {
    const path = `${dimensionPath(index, j)}.volume`;
    ms = toEngineUnits(readVolume(value, path), 36n, HOURS_TO_MS_DIVISOR, rounding, path, 'h', warnings);
  }
  if (ms > MAX_DURATION_MS) invalid(`${dimensionPath(index, j)}.volume`, `expected at most ${MAX_HOURS} hours`);
  return ms;
}

/** kW to W; exact whenever the kW value has at most 3 decimals (power limits are compared in whole W). */
function readKilowattsAsWatts(value: unknown, index: number, j: number): number {
  if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) {
    const watts = Math.round(value * 1000);
    return watts / 1000 === value ? watts : value * 1000;
  }
  const volume = readVolume(value, `${dimensionPath(index, j)}.volume`);
  const divisor = VOLUME_UNIT / 1000n;
  if (volume % divisor === 0n) return Number(volume / divisor);
  return Number(formatVolume(volume)) * 1000;
}

/** A measurement that is only compared, never priced (current, state of charge). */
function readPlainNumber(value: unknown, index: number, j: number): number {
  if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) return value;
  return Number(formatVolume(readVolume(value, `${dimensionPath(index, j)}.volume`)));
}

/** A volume as an exact non-negative decimal scaled by 10^VOLUME_SCALE. */
function readVolume(value: unknown, path: string): bigint {
  if (typeof value !== 'number' && typeof value !== 'string') invalid(path, 'expected a non-negative number');
  const scaled = parseScaled(value, VOLUME_SCALE);
  if (scaled === undefined) invalid(path, `expected a non-negative number with at most ${VOLUME_SCALE} decimals`);
  if (scaled < 0n) invalid(path, 'expected a non-negative number');
  return scaled;
}

/** volume × multiplier / divisor as an integer; rounded (with a warning) only when the input is finer than 1 mWh / 1 ms. */
function toEngineUnits(
  volume: bigint,
  multiplier: bigint,
  divisor: bigint,
  rounding: RoundingMode,
  path: string,
  unit: 'kWh' | 'h',
  warnings: string[],
): number {
  const numerator = volume * multiplier;
  const value = roundDiv(numerator, divisor, rounding);
  if (numerator % divisor !== 0n) {
    const engineUnit = unit === 'h' ? 'ms' : 'mWh';
    warnings.push(
      `volume_rounded: ${path}: ${formatVolume(volume)} ${unit} is finer than 1 ${engineUnit} and was priced as ${value} ${engineUnit}`,
    );
  }
  return Number(value);
}

function formatVolume(volume: bigint): string {
  const text = volume.toString().padStart(VOLUME_SCALE + 1, '0');
  const whole = text.slice(0, -VOLUME_SCALE);
  const fraction = text.slice(-VOLUME_SCALE).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

/** Chooses the elements of every period at its start. */
function classify(periods: WorkPeriod[], tariff: Tariff, zone: ZoneOffsets, startMs: number, endMs: number): void {
  const plan = tariff.plan;
  const hasNormal = periods.some((period) => !period.reservation);
  const expired = !hasNormal;
  const selector = new ElementSelector(tariff.plan.restrictions);
  const cursor = new WallClockCursor(buildWallClockSpans(zone, startMs, endMs));
  const context = newInstantContext();
  context.measurementInput = 'cdr';
  let cumulativeEnergy = 0;
  periods.forEach((period, i) => {
    cursor.locate(period.startMs, context);
    context.cumulativeEnergyMilliWh = cumulativeEnergy;
    context.elapsedMs = period.startMs - startMs;
    context.minPowerW = period.minPowerW;
    context.maxPowerW = period.maxPowerW;
    context.minCurrentA = period.minCurrentA;
    context.maxCurrentA = period.maxCurrentA;
    context.measurementIndex = i;
    selector.at(context);
    if (period.reservation) {
      if (period.reservationTimeMs > 0) {
        period.reservationTimeElementIndex = selector.first(
          expired ? plan.expiredReservationTimeCandidates : plan.reservationTimeCandidates,
        );
      }
      period.flatElementIndex = selector.first(
        expired ? plan.expiredReservationFlatCandidates : plan.reservationFlatCandidates,
      );
    } else {
      if (period.energyMilliWh > 0) period.energyElementIndex = selector.first(plan.energyCandidates);
      if (period.timeMs > 0) period.timeElementIndex = selector.first(plan.timeCandidates);
      if (period.parkingTimeMs > 0) period.parkingTimeElementIndex = selector.first(plan.parkingCandidates);
      period.flatElementIndex = selector.first(plan.flatCandidates);
    }
    cumulativeEnergy += period.energyMilliWh;
  });
}

function invalid(path: string, message: string): never {
  throw new PricingFailure({ code: 'CdrInvalid', path, message });
}
