/**
 * Every instant inside a session at which a time-based restriction of the tariff can change its outcome: local
 * midnights and DST changes (dates, weekdays, the wall clock jumping), start/end times of day, and the instants
 * at which min_duration/max_duration are reached. The timeline is cut at each of them.
 */
import type { PricingPlan } from './tariff.ts';
import { collectWallClockBoundaries, type WallClockSpans } from './wall-clock.ts';

/** Sorted, distinct instants in (startMs, endMs). */
export function collectTimeBoundaries(
  plan: PricingPlan,
  spans: WallClockSpans,
  startMs: number,
  endMs: number,
): number[] {
  const wall: number[] = [];
  if (plan.usesLocalTime) collectWallClockBoundaries(spans, plan.timeOfDayBoundariesMs, startMs, endMs, wall);
  const durations = plan.durationBoundariesMs;
  if (durations.length === 0) return wall;
  const merged: number[] = [];
  let w = 0;
  let d = 0;
  while (w < wall.length || d < durations.length) {
    const wallMs = w < wall.length ? (wall[w] as number) : Number.POSITIVE_INFINITY;
    const durationMs = d < durations.length ? startMs + (durations[d] as number) : Number.POSITIVE_INFINITY;
    let nextMs: number;
    if (wallMs <= durationMs) {
      nextMs = wallMs;
      w++;
      if (wallMs === durationMs) d++;
    } else {
      nextMs = durationMs;
      d++;
    }
    if (nextMs > startMs && nextMs < endMs && (merged.length === 0 || merged[merged.length - 1] !== nextMs)) {
      merged.push(nextMs);
    }
  }
  return merged;
}
