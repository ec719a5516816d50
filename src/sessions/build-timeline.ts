/**
 * Builds the pricing timeline of a finished session from what its station reported: the meter samples (energy
 * register, power, current) and the charging-state changes. The timeline runs from the session's start (energy 0)
 * to its end (the billed energy, meterStop - meterStart), so that pricing always bills exactly the energy the
 * transaction reports; samples that contradict it are left out and reported as findings, never silently used.
 */
import type { Finding } from './finding.ts';
import type { ChargingState } from './session-event.ts';

export type StoredSample = {
  readonly at: Date;
  /** Absolute register in milliwatt-hours. */
  readonly registerMilliWh?: bigint;
  readonly powerW?: number;
  readonly currentA?: number;
};

export type StoredStateChange = { readonly at: Date; readonly state: ChargingState };

export type TimelinePoint = {
  readonly at: Date;
  /** Cumulative energy since the session started, in Wh with at most three decimals (exact). */
  readonly energyWh: number;
  readonly state: ChargingState;
  readonly powerW?: number;
  readonly currentA?: number;
};

export type BuiltTimeline = {
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly samples: TimelinePoint[];
  readonly findings: Finding[];
};

export type TimelineSession = {
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly meterStartWh: bigint;
  readonly energyWh: bigint;
};

type EnergyPoint = { atMs: number; milliWh: bigint; powerW?: number; currentA?: number };

export function buildTimeline(
  session: TimelineSession,
  samples: readonly StoredSample[],
  states: readonly StoredStateChange[],
): BuiltTimeline {
  const startMs = session.startedAt.getTime();
  const endMs = session.endedAt.getTime();
  const startMilliWh = session.meterStartWh * 1000n;
  const totalMilliWh = session.energyWh * 1000n;
  let outside = 0;
  let outOfRange = 0;

  const energyPoints: EnergyPoint[] = [{ atMs: startMs, milliWh: 0n }];
  const sorted = [...samples].sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const sample of sorted) {
    const atMs = sample.at.getTime();
    if (atMs < startMs || atMs > endMs) {
      outside++;
      continue;
    }
    const last = energyPoints[energyPoints.length - 1]!;
    let milliWh = last.milliWh;
    if (sample.registerMilliWh !== undefined) {
      const relative = sample.registerMilliWh - startMilliWh;
      if (relative < last.milliWh || relative > totalMilliWh) {
        outOfRange++;
        continue;
      }
      milliWh = relative;
    }
    const point: EnergyPoint = {
      atMs,
      milliWh,
      ...(sample.powerW !== undefined && { powerW: sample.powerW }),
      ...(sample.currentA !== undefined && { currentA: sample.currentA }),
    };
    if (atMs === last.atMs) energyPoints[energyPoints.length - 1] = point;
    else energyPoints.push(point);
  }
  const lastPoint = energyPoints[energyPoints.length - 1]!;
  if (lastPoint.atMs === endMs) energyPoints[energyPoints.length - 1] = { ...lastPoint, milliWh: totalMilliWh };
  else energyPoints.push({ atMs: endMs, milliWh: totalMilliWh });

  const findings: Finding[] = [];
  if (outside > 0)
    findings.push({
      code: 'SampleOutsideSession',
      severity: 'warn',
      message: `${outside} meter sample(s) outside the session's start and end were not used for pricing`,
    });
  if (outOfRange > 0)
    findings.push({
      code: 'SampleRegisterOutOfRange',
      severity: 'warn',
      message: `${outOfRange} meter sample(s) with a register outside meterStart..meterStop or going backwards were not used`,
    });

  return {
    startedAt: session.startedAt,
    endedAt: session.endedAt,
    samples: mergeStates(energyPoints, states, startMs, endMs),
    findings,
  };
}

/** Adds a timeline point at every state change, with the energy interpolated linearly between meter points. */
function mergeStates(
  energyPoints: readonly EnergyPoint[],
  states: readonly StoredStateChange[],
  startMs: number,
  endMs: number,
): TimelinePoint[] {
  const changes = [...states].sort((a, b) => a.at.getTime() - b.at.getTime());
  let initialState: ChargingState = 'Charging';
  let next = 0;
  while (next < changes.length && changes[next]!.at.getTime() <= startMs) initialState = changes[next++]!.state;
  const points: TimelinePoint[] = [];
  let state = initialState;
  // A station reports power and current only with its first sample, not at the start itself; the first measured
  // values stand for the stretch before it, so that tariffs restricted by power or current can price that stretch.
  let powerW: number | undefined = energyPoints.find((p) => p.powerW !== undefined)?.powerW;
  let currentA: number | undefined = energyPoints.find((p) => p.currentA !== undefined)?.currentA;
  const push = (atMs: number, milliWh: bigint) => {
    const point: TimelinePoint = {
      at: new Date(atMs),
      energyWh: Number(milliWh) / 1000,
      state,
      ...(powerW !== undefined && { powerW }),
      ...(currentA !== undefined && { currentA }),
    };
    if (points.length > 0 && points[points.length - 1]!.at.getTime() === atMs) points[points.length - 1] = point;
    else points.push(point);
  };
  for (let i = 0; i < energyPoints.length; i++) {
    const point = energyPoints[i]!;
    // State changes strictly before this meter point, inside the session, get a point of their own.
    while (next < changes.length && changes[next]!.at.getTime() < point.atMs) {
      const change = changes[next++]!;
      const changeMs = change.at.getTime();
      if (changeMs >= endMs) break;
      const previous = energyPoints[i - 1]!;
      state = change.state;
      push(changeMs, interpolate(previous, point, changeMs));
    }
    while (next < changes.length && changes[next]!.at.getTime() === point.atMs) state = changes[next++]!.state;
    if (point.powerW !== undefined) powerW = point.powerW;
    if (point.currentA !== undefined) currentA = point.currentA;
    push(point.atMs, point.milliWh);
  }
  return points;
}

/** Energy at `atMs` on the straight line between two meter points, rounded down to whole milliwatt-hours. */
function interpolate(from: EnergyPoint, to: EnergyPoint, atMs: number): bigint {
  const spanMs = BigInt(to.atMs - from.atMs);
  if (spanMs === 0n) return to.milliWh;
  return from.milliWh + ((to.milliWh - from.milliWh) * BigInt(atMs - from.atMs)) / spanMs;
}
