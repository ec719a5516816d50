/**
 * Cuts a session timeline into priced periods. Between two samples the state, power and current of the earlier
 * sample hold and the energy rises linearly; before the first sample the session is Charging with energy rising
 * from 0 Wh at startedAt; after the last sample its state holds and the energy stays.
 *
 * Each segment between samples is cut again at every boundary a restriction implies: time boundaries (local time,
 * dates, weekdays, DST, durations; see time-boundaries.ts) and the instants at which the cumulative energy reaches
 * a min_kwh/max_kwh threshold. The piece energy at a time boundary is rounded down to the mWh, and the instant of an
 * energy threshold is rounded up to the ms; both keep pieces ordered in time and energy and the totals exact (the
 * volumes of the pieces add up to the samples' exactly). Pieces whose chosen elements are all the same are merged
 * into one period, which is what an OCPI CDR requires and what makes re-cutting at a non-boundary change nothing.
 *
 * Charging state to dimension (docs/specs/tariffs.md): Charging is TIME; SuspendedEV is PARKING_TIME; EVConnected
 * is PARKING_TIME once the session has charged, and not billed before; SuspendedEVSE is not billed unless the
 * billSuspendedEvseAsTime option makes it TIME; Idle (no vehicle connected) is not billed.
 */
import { assert } from '../shared/assert.ts';
import type { PricingOptions, SessionTimeline, TimelineSample } from './pricing-input.ts';
import { ElementSelector, type InstantContext, newInstantContext } from './select-element.ts';
import type { Tariff } from './tariff.ts';
import { collectTimeBoundaries } from './time-boundaries.ts';
import {
  energyMilliWhOf,
  STATE_CHARGING,
  STATE_EV_CONNECTED,
  STATE_SUSPENDED_EV,
  STATE_SUSPENDED_EVSE,
  stateCode,
} from './validate-timeline.ts';
import { WallClockCursor, type WallClockSpans } from './wall-clock.ts';
import { newWorkPeriod, type WorkPeriod } from './work-period.ts';

/** Cuts and classifies; returns periods in time order, contiguous from startMs to endMs. */
export function cutTimeline(
  timeline: SessionTimeline,
  span: { startMs: number; endMs: number },
  tariff: Tariff,
  spans: WallClockSpans,
  options: PricingOptions,
): WorkPeriod[] {
  const { startMs, endMs } = span;
  const samples = timeline.samples;
  const plan = tariff.plan;
  const timeBoundaries = collectTimeBoundaries(plan, spans, startMs, endMs);
  const energyBoundaries = plan.energyBoundariesMilliWh;
  const builder = new PeriodBuilder(tariff, spans, startMs);
  const sampleCount = samples.length;
  let timeIndex = 0;
  let energyIndex = 0;
  let hasCharged = false;

  // Segment -1 is the stretch before the first sample; segment i runs from sample i to the next sample (or end).
  let t1 = sampleCount > 0 ? (samples[0] as TimelineSample).at.getTime() : endMs;
  let e1 = sampleCount > 0 ? energyMilliWhOf((samples[0] as TimelineSample).energyWh) : 0;
  for (let segment = -1; segment < sampleCount; segment++) {
    const sample = segment < 0 ? undefined : (samples[segment] as TimelineSample);
    const t0 = segment < 0 ? startMs : t1;
    const e0 = segment < 0 ? 0 : e1;
    const next = segment + 1 < sampleCount ? (samples[segment + 1] as TimelineSample) : undefined;
    if (segment >= 0) {
      t1 = next === undefined ? endMs : next.at.getTime();
      e1 = next === undefined ? e0 : energyMilliWhOf(next.energyWh);
    }
    if (sample === undefined && t1 === t0 && e1 === e0 && sampleCount > 0) continue;
    const code = sample === undefined ? STATE_CHARGING : stateCode(sample.state);
    const timeDimension = dimensionOf(code, hasCharged, options);
    if (code === STATE_CHARGING) hasCharged = true;
    builder.segment(timeDimension, sample?.powerW ?? Number.NaN, sample?.currentA ?? Number.NaN, segment);

    const dtMs = t1 - t0;
    const de = e1 - e0;
    let pieceStartMs = t0;
    let pieceStartEnergy = e0;
    for (;;) {
      // Passing a boundary means that restrictions may have changed their outcome from here on.
      while (timeIndex < timeBoundaries.length && (timeBoundaries[timeIndex] as number) <= pieceStartMs) {
        timeIndex++;
        builder.restrictionsMayChange();
      }
      while (energyIndex < energyBoundaries.length && (energyBoundaries[energyIndex] as number) <= pieceStartEnergy) {
        energyIndex++;
        builder.restrictionsMayChange();
      }
      const boundaryMs =
        timeIndex < timeBoundaries.length && (timeBoundaries[timeIndex] as number) < t1
          ? (timeBoundaries[timeIndex] as number)
          : Number.POSITIVE_INFINITY;
      const threshold =
        energyIndex < energyBoundaries.length && (energyBoundaries[energyIndex] as number) < e1
          ? (energyBoundaries[energyIndex] as number)
          : -1;
      // The first ms at which the linear energy has reached the threshold.
      const thresholdMs = threshold < 0 ? Number.POSITIVE_INFINITY : t0 + mulDivCeil(threshold - e0, dtMs, de);
      if (boundaryMs === Number.POSITIVE_INFINITY && thresholdMs === Number.POSITIVE_INFINITY) break;
      let cutMs: number;
      let cutEnergy: number;
      if (boundaryMs < thresholdMs) {
        cutMs = boundaryMs;
        cutEnergy = e0 + mulDivFloor(boundaryMs - t0, de, dtMs);
      } else if (thresholdMs < boundaryMs) {
        cutMs = thresholdMs;
        cutEnergy = threshold;
      } else {
        cutMs = boundaryMs;
        cutEnergy = Math.max(threshold, e0 + mulDivFloor(boundaryMs - t0, de, dtMs));
      }
      builder.piece(pieceStartMs, cutMs, pieceStartEnergy, cutEnergy);
      pieceStartMs = cutMs;
      pieceStartEnergy = cutEnergy;
    }
    builder.piece(pieceStartMs, t1, pieceStartEnergy, e1);
  }
  return builder.finish(startMs, endMs);
}

function dimensionOf(stateCode: number, hasCharged: boolean, options: PricingOptions): 0 | 1 | 2 {
  switch (stateCode) {
    case STATE_CHARGING:
      return 1;
    case STATE_SUSPENDED_EV:
      return 2;
    case STATE_EV_CONNECTED:
      return hasCharged ? 2 : 0;
    case STATE_SUSPENDED_EVSE:
      return options.billSuspendedEvseAsTime === true ? 1 : 0;
    default:
      return 0;
  }
}

/**
 * Classifies pieces and merges neighbours with identical choices. One instance per session; holds the current
 * segment's state so that `piece` takes only numbers.
 */
class PeriodBuilder {
  private readonly periods: WorkPeriod[] = [];
  private readonly selector: ElementSelector;
  private readonly cursor: WallClockCursor;
  private readonly context: InstantContext = newInstantContext();
  private timeDimension: 0 | 1 | 2 = 0;
  private powerW = Number.NaN;
  private currentA = Number.NaN;
  private powerBand = Number.NaN;
  private currentBand = Number.NaN;
  /**
   * False while nothing a restriction looks at has changed since the last classified piece: no time or energy
   * boundary passed, same charging dimension, power and current within the same band of the tariff's limits.
   * The next piece then has the same elements and simply extends the current period.
   */
  private changed = true;

  constructor(
    private readonly tariff: Tariff,
    spans: WallClockSpans,
    private readonly sessionStartMs: number,
  ) {
    this.selector = new ElementSelector(tariff.plan.restrictions);
    this.cursor = new WallClockCursor(spans);
    this.context.measurementInput = 'timeline';
  }

  restrictionsMayChange(): void {
    this.changed = true;
  }

  /** Starts a segment; `sampleIndex` is the sample whose values hold (-1: before the first sample). */
  segment(timeDimension: 0 | 1 | 2, powerW: number, currentA: number, sampleIndex: number): void {
    const plan = this.tariff.plan;
    const powerBand = plan.usesPower ? band(powerW, plan.powerBoundsW) : 0;
    const currentBand = plan.usesCurrent ? band(currentA, plan.currentBoundsA) : 0;
    if (
      timeDimension !== this.timeDimension ||
      !Object.is(powerBand, this.powerBand) ||
      !Object.is(currentBand, this.currentBand)
    ) {
      this.changed = true;
    }
    this.powerBand = powerBand;
    this.currentBand = currentBand;
    this.timeDimension = timeDimension;
    this.powerW = powerW;
    this.currentA = currentA;
    this.context.minPowerW = powerW;
    this.context.maxPowerW = powerW;
    this.context.minCurrentA = currentA;
    this.context.maxCurrentA = currentA;
    this.context.measurementIndex = sampleIndex;
  }

  piece(startMs: number, endMs: number, startEnergy: number, endEnergy: number): void {
    const durationMs = endMs - startMs;
    const energy = endEnergy - startEnergy;
    if (durationMs === 0 && energy === 0) return;
    const dimension = this.timeDimension;
    const timed = durationMs > 0;
    const last = this.periods[this.periods.length - 1];
    if (
      !this.changed &&
      last !== undefined &&
      energy > 0 === last.energyMilliWh > 0 &&
      (timed && dimension === 1) === last.timeMs > 0 &&
      (timed && dimension === 2) === last.parkingTimeMs > 0
    ) {
      this.extend(last, endMs, energy, durationMs);
      return;
    }
    this.changed = false;
    const plan = this.tariff.plan;
    const context = this.context;
    this.cursor.locate(startMs, context);
    context.cumulativeEnergyMilliWh = startEnergy;
    context.elapsedMs = startMs - this.sessionStartMs;
    const selector = this.selector;
    selector.at(context);
    const isTime = timed && dimension === 1;
    const isParking = timed && dimension === 2;
    const energyElement = energy > 0 ? selector.first(plan.energyCandidates) : null;
    const timeElement = isTime ? selector.first(plan.timeCandidates) : null;
    const parkingElement = isParking ? selector.first(plan.parkingCandidates) : null;
    const flatElement = selector.first(plan.flatCandidates);

    if (
      last !== undefined &&
      last.timeDimension === dimension &&
      // Same choices and the same volumes present (an element is only chosen for a positive volume).
      energy > 0 === last.energyMilliWh > 0 &&
      isTime === last.timeMs > 0 &&
      isParking === last.parkingTimeMs > 0 &&
      last.energyElementIndex === energyElement &&
      last.timeElementIndex === timeElement &&
      last.parkingTimeElementIndex === parkingElement &&
      last.flatElementIndex === flatElement
    ) {
      this.extend(last, endMs, energy, durationMs);
      return;
    }
    const period = newWorkPeriod(startMs, endMs);
    period.timeDimension = dimension;
    period.energyMilliWh = energy;
    if (dimension === 1) period.timeMs = durationMs;
    else if (dimension === 2) period.parkingTimeMs = durationMs;
    period.energyElementIndex = energyElement;
    period.timeElementIndex = timeElement;
    period.parkingTimeElementIndex = parkingElement;
    period.flatElementIndex = flatElement;
    widenMeasurements(period, this.powerW, this.currentA);
    this.periods.push(period);
  }

  private extend(last: WorkPeriod, endMs: number, energy: number, durationMs: number): void {
    last.endMs = endMs;
    last.energyMilliWh += energy;
    if (this.timeDimension === 1) last.timeMs += durationMs;
    else if (this.timeDimension === 2) last.parkingTimeMs += durationMs;
    widenMeasurements(last, this.powerW, this.currentA);
  }

  /** The periods; a session of zero length is one empty period so that its FLAT fee is still charged. */
  finish(startMs: number, endMs: number): WorkPeriod[] {
    if (this.periods.length === 0) {
      assert(endMs === startMs, 'a session with a duration always yields a piece');
      this.segment(1, Number.NaN, Number.NaN, -1);
      this.cursor.locate(startMs, this.context);
      this.context.cumulativeEnergyMilliWh = 0;
      this.context.elapsedMs = 0;
      this.selector.at(this.context);
      const period = newWorkPeriod(startMs, endMs);
      period.timeDimension = 1;
      period.flatElementIndex = this.selector.first(this.tariff.plan.flatCandidates);
      this.periods.push(period);
    }
    return this.periods;
  }
}

/** Which band of the sorted bounds a measurement falls in (how many bounds are <= it); NaN when unknown. */
function band(value: number, bounds: readonly number[]): number {
  if (Number.isNaN(value)) return Number.NaN;
  let count = 0;
  while (count < bounds.length && (bounds[count] as number) <= value) count++;
  return count;
}

/** Extends a period's measured power/current range by one more value (NaN values are unknown and ignored). */
function widenMeasurements(period: WorkPeriod, powerW: number, currentA: number): void {
  if (!Number.isNaN(powerW)) {
    if (Number.isNaN(period.minPowerW) || powerW < period.minPowerW) period.minPowerW = powerW;
    if (Number.isNaN(period.maxPowerW) || powerW > period.maxPowerW) period.maxPowerW = powerW;
  }
  if (!Number.isNaN(currentA)) {
    if (Number.isNaN(period.minCurrentA) || currentA < period.minCurrentA) period.minCurrentA = currentA;
    if (Number.isNaN(period.maxCurrentA) || currentA > period.maxCurrentA) period.maxCurrentA = currentA;
  }
}

/** floor(a * b / c) exactly, for non-negative safe integers a, b and positive c. */
function mulDivFloor(a: number, b: number, c: number): number {
  const product = a * b;
  // Below 2^53 the product is exact and the float quotient is close enough that floor cannot be off by one.
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** ceil(a * b / c) exactly, for non-negative safe integers a, b and positive c. */
function mulDivCeil(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.ceil(product / c);
  const big = BigInt(a) * BigInt(b);
  const divisor = BigInt(c);
  return Number((big + divisor - 1n) / divisor);
}
