/**
 * The local wall clock over one session: the session's time range cut into spans inside which the UTC offset and
 * the local date are constant. Within a span, the local time of day of an instant t is `t + offset - day * 24 h`.
 *
 * Restrictions are evaluated on the wall clock of each instant (docs/specs/tariffs.md): on a fall-back day the
 * repeated hour is two spans with the same local times, so both instants match a window such as 02:00-03:00;
 * on a spring-forward day no instant has a local time in the skipped hour. The span starts (local midnights and
 * offset changes) are exactly the instants at which the local date or the wall clock jumps.
 */
import { DAY_MS } from './compile-restrictions.ts';
import type { ZoneOffsets } from './zone-offsets.ts';

export type WallClockSpans = {
  /** First instant of each span (epoch ms), ascending; spans[0] starts at the requested from instant. */
  readonly startMs: number[];
  /** UTC offset in ms within each span. */
  readonly offsetMs: number[];
  /** Local date within each span as a day number (days since 1970-01-01). */
  readonly localDay: number[];
  /** First instant after the covered range (exclusive end of the last span). */
  readonly endMs: number;
};

/** Cuts [fromMs, toMs] (both inclusive) into wall-clock spans. */
export function buildWallClockSpans(zone: ZoneOffsets, fromMs: number, toMs: number): WallClockSpans {
  const startMs: number[] = [];
  const offsetMs: number[] = [];
  const localDay: number[] = [];
  const endMs = toMs + 1;
  let atMs = fromMs;
  let offset = zone.offsetAtMs(atMs);
  for (;;) {
    const day = Math.floor((atMs + offset) / DAY_MS);
    startMs.push(atMs);
    offsetMs.push(offset);
    localDay.push(day);
    const nextMidnightMs = (day + 1) * DAY_MS - offset;
    // Only a change before the next midnight can end this span: looking further would be wasted work.
    const nextChangeMs = zone.nextChangeMs(atMs, Math.min(endMs, nextMidnightMs + 1));
    const spanEndMs = Math.min(nextMidnightMs, nextChangeMs);
    if (spanEndMs >= endMs) break;
    if (spanEndMs === nextChangeMs) offset = zone.offsetAtMs(spanEndMs);
    atMs = spanEndMs;
  }
  return { startMs, offsetMs, localDay, endMs };
}

/**
 * Appends to `out`, in ascending order, every instant in (fromMs, toMs) at which a restriction on local time can
 * change its outcome: the span starts (midnights, offset changes) and each instant whose wall-clock time of day is
 * one of `timesOfDayMs` (ascending; 0, 1 or 2 instants per time and day, because of DST).
 */
export function collectWallClockBoundaries(
  spans: WallClockSpans,
  timesOfDayMs: readonly number[],
  fromMs: number,
  toMs: number,
  out: number[],
): void {
  const count = spans.startMs.length;
  for (let i = 0; i < count; i++) {
    const spanStartMs = spans.startMs[i] as number;
    const spanEndMs = i + 1 < count ? (spans.startMs[i + 1] as number) : spans.endMs;
    if (spanStartMs > fromMs && spanStartMs < toMs) out.push(spanStartMs);
    const midnightWallMs = (spans.localDay[i] as number) * DAY_MS - (spans.offsetMs[i] as number);
    for (const timeOfDayMs of timesOfDayMs) {
      const atMs = midnightWallMs + timeOfDayMs;
      if (atMs > spanStartMs && atMs < spanEndMs && atMs > fromMs && atMs < toMs) out.push(atMs);
    }
  }
}

/**
 * Moves forward through the spans and writes the local facts of an instant into a context. Instants must be
 * visited in non-decreasing order (periods are), which makes each lookup O(1) amortized.
 */
export class WallClockCursor {
  private index = 0;

  constructor(private readonly spans: WallClockSpans) {}

  /** Sets timeOfDayMs, localDay and weekday (0 = Monday) of `atMs` in `out`. */
  locate(atMs: number, out: { timeOfDayMs: number; localDay: number; weekday: number }): void {
    const starts = this.spans.startMs;
    while (this.index + 1 < starts.length && (starts[this.index + 1] as number) <= atMs) this.index++;
    const day = this.spans.localDay[this.index] as number;
    out.timeOfDayMs = atMs + (this.spans.offsetMs[this.index] as number) - day * DAY_MS;
    out.localDay = day;
    // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
    out.weekday = (((day + 3) % 7) + 7) % 7;
  }
}
