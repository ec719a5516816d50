/**
 * Which tariff element prices a dimension at an instant: the first element in list order that has a component of
 * that dimension and whose restrictions all hold (OCPI 2.2.1, docs/specs/tariffs.md). None holds: free.
 *
 * Restrictions are checked on an InstantContext, the facts at the start of a period (all of them constant within
 * the period, because periods are cut at every boundary). Checks run cheapest first, and a measurement (power,
 * current) is demanded only when a restriction on it is actually reached, so that a tariff whose power limits
 * apply to charging never requires a power value for a parking period.
 */
import { PricingFailure } from './pricing-error.ts';
import type { CompiledRestrictions } from './tariff.ts';

/** The facts about one instant that restrictions look at. Mutable and reused: the hot loop allocates nothing. */
export type InstantContext = {
  /** Local wall-clock time of day, ms since local midnight. */
  timeOfDayMs: number;
  /** Local date as days since 1970-01-01. */
  localDay: number;
  /** 0 = Monday ... 6 = Sunday (local date). */
  weekday: number;
  /** Energy delivered since the session started, up to this instant. */
  cumulativeEnergyMilliWh: number;
  /** Time since the session started. */
  elapsedMs: number;
  /**
   * Power and current over the period (NaN: unknown). A min_* bound is checked on the minimum and a max_* bound on
   * the maximum; when that one is unknown, the other decides only if it already violates the bound.
   */
  minPowerW: number;
  maxPowerW: number;
  minCurrentA: number;
  maxCurrentA: number;
  /** Where the measurements come from, for the MeasurementMissing path: a sample or a CDR period (-1: none). */
  measurementInput: 'timeline' | 'cdr';
  measurementIndex: number;
};

export function newInstantContext(): InstantContext {
  return {
    timeOfDayMs: 0,
    localDay: 0,
    weekday: 0,
    cumulativeEnergyMilliWh: 0,
    elapsedMs: 0,
    minPowerW: Number.NaN,
    maxPowerW: Number.NaN,
    minCurrentA: Number.NaN,
    maxCurrentA: Number.NaN,
    measurementInput: 'timeline',
    measurementIndex: -1,
  };
}

/** True when every restriction holds at the instant. Throws PricingFailure when a needed measurement is missing. */
export function restrictionsHold(r: CompiledRestrictions, at: InstantContext): boolean {
  if (r.unrestricted) return true;
  const timeOfDayMs = at.timeOfDayMs;
  switch (r.timeWindow) {
    case 'none':
      break;
    case 'within-day':
      if (timeOfDayMs < r.startTimeOfDayMs || timeOfDayMs >= r.endTimeOfDayMs) return false;
      break;
    case 'past-midnight':
      if (timeOfDayMs < r.startTimeOfDayMs && timeOfDayMs >= r.endTimeOfDayMs) return false;
      break;
    case 'never':
      return false;
  }
  if (at.localDay < r.startDay || at.localDay >= r.endDay) return false;
  if ((r.dayOfWeekMask & (1 << at.weekday)) === 0) return false;
  if (at.cumulativeEnergyMilliWh < r.minEnergyMilliWh || at.cumulativeEnergyMilliWh >= r.maxEnergyMilliWh) return false;
  if (at.elapsedMs < r.minDurationMs || at.elapsedMs >= r.maxDurationMs) return false;
  if (r.minPowerW !== null && !atLeast(at.minPowerW, at.maxPowerW, r.minPowerW, at, 'power')) return false;
  if (r.maxPowerW !== null && !below(at.minPowerW, at.maxPowerW, r.maxPowerW, at, 'power')) return false;
  if (r.minCurrentA !== null && !atLeast(at.minCurrentA, at.maxCurrentA, r.minCurrentA, at, 'current')) return false;
  if (r.maxCurrentA !== null && !below(at.minCurrentA, at.maxCurrentA, r.maxCurrentA, at, 'current')) return false;
  return true;
}

/**
 * Whether the measured value stays >= bound over the period, decided from the known minimum, or from a known
 * maximum that is already below the bound. Otherwise the value is missing: an error, never a guess.
 */
function atLeast(min: number, max: number, bound: number, at: InstantContext, what: 'power' | 'current'): boolean {
  if (!Number.isNaN(min)) return min >= bound;
  if (!Number.isNaN(max) && max < bound) return false;
  return missing(at, what);
}

/** Whether the measured value stays < bound over the period (the mirror of atLeast). */
function below(min: number, max: number, bound: number, at: InstantContext, what: 'power' | 'current'): boolean {
  if (!Number.isNaN(max)) return max < bound;
  if (!Number.isNaN(min) && min >= bound) return false;
  return missing(at, what);
}

function missing(at: InstantContext, what: 'power' | 'current'): never {
  throw new PricingFailure({
    code: 'MeasurementMissing',
    path:
      at.measurementInput === 'cdr'
        ? `$.charging_periods[${at.measurementIndex}].dimensions`
        : at.measurementIndex < 0
          ? '$.samples'
          : `$.samples[${at.measurementIndex}]`,
    message: `the tariff has a ${what} restriction, but no ${what} is known here; provide ${
      what === 'power'
        ? 'powerW (timeline) or POWER/MIN_POWER/MAX_POWER (CDR)'
        : 'currentA (timeline) or CURRENT/MIN_CURRENT/MAX_CURRENT (CDR)'
    }`,
  });
}

/**
 * Chooses elements for one instant at a time, remembering each element's verdict for that instant so that an
 * element with several components is checked once. Call `at` for every new instant, then `first` per dimension.
 */
export class ElementSelector {
  private readonly verdictStamp: number[];
  private readonly verdict: boolean[];
  private stamp = 0;
  private context: InstantContext | undefined;

  constructor(private readonly restrictions: readonly CompiledRestrictions[]) {
    this.verdictStamp = [];
    this.verdict = [];
    for (let i = 0; i < restrictions.length; i++) {
      this.verdictStamp.push(0);
      this.verdict.push(false);
    }
  }

  /** Starts a new instant; verdicts of the previous one are forgotten. */
  at(context: InstantContext): void {
    this.context = context;
    this.stamp++;
  }

  /** The first candidate (element index) whose restrictions hold, or null when none does. */
  first(candidates: readonly number[]): number | null {
    const context = this.context as InstantContext;
    for (let i = 0; i < candidates.length; i++) {
      const index = candidates[i] as number;
      if (this.verdictStamp[index] !== this.stamp) {
        this.verdict[index] = restrictionsHold(this.restrictions[index] as CompiledRestrictions, context);
        this.verdictStamp[index] = this.stamp;
      }
      if (this.verdict[index] === true) return index;
    }
    return null;
  }
}
