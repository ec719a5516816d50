/**
 * UTC offsets of an IANA time zone, looked up through Luxon (which asks Intl) and cached per UTC day.
 *
 * Asking Intl for an offset costs several microseconds, far too much for every period of every session. The
 * offsets of a day never change, so each UTC day is examined once: offsets at 00:00, 06:00, 12:00, 18:00 and 24:00
 * and, where two differ, a binary search for the exact millisecond of the change. This finds every transition of
 * the tz database, none of which are less than six hours apart. The cache is a pure memo (same input, same
 * answer), so pricing stays a pure function.
 */
import { IANAZone } from 'luxon';
import { DAY_MS } from './compile-restrictions.ts';

/** Offset changes inside one UTC day: offsets in ms (local = utc + offset). */
type DayOffsets = {
  readonly offsetAtStartMs: number;
  /** Instants (epoch ms) of changes within the day, ascending, and the offset from each instant on. */
  readonly changeAtMs: readonly number[];
  readonly offsetAfterMs: readonly number[];
};

/** Bound on cached days per zone (about 27 years); the cache is cleared when it grows past this. */
const MAX_CACHED_DAYS = 10_000;
const SAMPLE_STEP_MS = 6 * 3_600_000;

/** The offsets of one time zone. Create through zoneOffsetsFor (one shared instance per zone). */
export class ZoneOffsets {
  private readonly days = new Map<number, DayOffsets>();

  constructor(
    /** Canonical IANA name, e.g. Europe/Amsterdam. */
    readonly name: string,
    private readonly zone: IANAZone,
  ) {}

  /** The UTC offset in ms in force at `atMs` (local wall clock = atMs + offset). */
  offsetAtMs(atMs: number): number {
    const day = this.day(Math.floor(atMs / DAY_MS));
    let offset = day.offsetAtStartMs;
    for (let i = 0; i < day.changeAtMs.length; i++) {
      if (atMs >= (day.changeAtMs[i] as number)) offset = day.offsetAfterMs[i] as number;
    }
    return offset;
  }

  /** The first offset change strictly after `afterMs` and before `limitMs`, or +Infinity when there is none. */
  nextChangeMs(afterMs: number, limitMs: number): number {
    for (let utcDay = Math.floor(afterMs / DAY_MS); utcDay * DAY_MS < limitMs; utcDay++) {
      for (const changeMs of this.day(utcDay).changeAtMs) {
        if (changeMs > afterMs) return changeMs < limitMs ? changeMs : Number.POSITIVE_INFINITY;
      }
    }
    return Number.POSITIVE_INFINITY;
  }

  private day(utcDay: number): DayOffsets {
    let offsets = this.days.get(utcDay);
    if (offsets === undefined) {
      if (this.days.size >= MAX_CACHED_DAYS) this.days.clear();
      offsets = this.computeDay(utcDay);
      this.days.set(utcDay, offsets);
    }
    return offsets;
  }

  private computeDay(utcDay: number): DayOffsets {
    const startMs = utcDay * DAY_MS;
    const changeAtMs: number[] = [];
    const offsetAfterMs: number[] = [];
    let previousMs = startMs;
    let previousOffset = this.rawOffsetMs(startMs);
    const offsetAtStartMs = previousOffset;
    for (let sampleMs = startMs + SAMPLE_STEP_MS; sampleMs <= startMs + DAY_MS; sampleMs += SAMPLE_STEP_MS) {
      const offset = this.rawOffsetMs(sampleMs);
      if (offset !== previousOffset) {
        // Binary search for the first millisecond with the new offset, in (previousMs, sampleMs].
        let lowMs = previousMs;
        let highMs = sampleMs;
        while (highMs - lowMs > 1) {
          const midMs = Math.floor((lowMs + highMs) / 2);
          if (this.rawOffsetMs(midMs) === previousOffset) lowMs = midMs;
          else highMs = midMs;
        }
        // A change exactly at the next midnight UTC belongs to the next day.
        if (highMs < startMs + DAY_MS) {
          changeAtMs.push(highMs);
          offsetAfterMs.push(offset);
        }
      }
      previousMs = sampleMs;
      previousOffset = offset;
    }
    return { offsetAtStartMs, changeAtMs, offsetAfterMs };
  }

  private rawOffsetMs(atMs: number): number {
    return this.zone.offset(atMs) * 60_000;
  }
}

const zones = new Map<string, ZoneOffsets | null>();

/**
 * The shared ZoneOffsets of an IANA zone name, or null when the name is not a zone this runtime knows.
 * Names are canonicalized by Intl (e.g. `europe/amsterdam` becomes `Europe/Amsterdam`). Fixed offsets such as
 * `+01:00` are refused: a location has a zone, and an offset alone cannot know about DST.
 */
export function zoneOffsetsFor(name: string): ZoneOffsets | null {
  const cached = zones.get(name);
  if (cached !== undefined) return cached;
  let result: ZoneOffsets | null = null;
  if (/^[A-Za-z]/.test(name) && IANAZone.isValidZone(name)) {
    const canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    result = zones.get(canonical) ?? new ZoneOffsets(canonical, IANAZone.create(canonical));
    zones.set(canonical, result);
  }
  // Unknown names are remembered too, but bounded: a caller cannot grow this map without limit.
  if (zones.size < 1_000) zones.set(name, result);
  return result;
}
