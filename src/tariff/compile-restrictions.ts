/**
 * Turns validated OCPI TariffRestrictions into CompiledRestrictions, the exact-integer form checked for every
 * period. The semantics decided in docs/specs/tariffs.md live here:
 *
 * - start_time/end_time are local wall-clock times; end 00:00 means the end of the day (24:00); an end before the
 *   start wraps past midnight; start == end never holds (00:00-00:00 is the whole day, because the end reads 24:00).
 *   Only start_time: from it to the end of the day. Only end_time: from midnight to it.
 * - start_date inclusive, end_date exclusive, both local dates; with times they make a daily window.
 * - min_* inclusive, max_* exclusive for kWh, current, power and duration.
 * - An empty day_of_week list restricts nothing (like an absent one).
 */
import type { CompiledRestrictions, TariffRestrictions, TimeWindowKind } from './tariff.ts';
import { DAYS_OF_WEEK } from './tariff.ts';

export const DAY_MS = 86_400_000;
const ALL_DAYS_MASK = 0b111_1111;

/** Exact values already parsed by parse-tariff.ts, in engine units. */
export type RestrictionValues = {
  readonly startTimeOfDayMs?: number;
  readonly endTimeOfDayMs?: number;
  readonly startDay?: number;
  readonly endDay?: number;
  readonly minEnergyMilliWh?: number;
  readonly maxEnergyMilliWh?: number;
  readonly minCurrentA?: number;
  readonly maxCurrentA?: number;
  readonly minPowerW?: number;
  readonly maxPowerW?: number;
  readonly minDurationMs?: number;
  readonly maxDurationMs?: number;
};

/** Compiles one element's restrictions; `restrictions` undefined means the element always applies. */
export function compileRestrictions(
  restrictions: TariffRestrictions | undefined,
  values: RestrictionValues,
): CompiledRestrictions {
  const { kind, startMs, endMs } = compileTimeWindow(values.startTimeOfDayMs, values.endTimeOfDayMs);
  let dayOfWeekMask = ALL_DAYS_MASK;
  const days = restrictions?.day_of_week;
  if (days !== undefined && days.length > 0) {
    dayOfWeekMask = 0;
    for (const day of days) dayOfWeekMask |= 1 << DAYS_OF_WEEK.indexOf(day);
  }
  const compiled: CompiledRestrictions = {
    unrestricted: false,
    timeWindow: kind,
    startTimeOfDayMs: startMs,
    endTimeOfDayMs: endMs,
    startDay: values.startDay ?? Number.NEGATIVE_INFINITY,
    endDay: values.endDay ?? Number.POSITIVE_INFINITY,
    dayOfWeekMask,
    minEnergyMilliWh: values.minEnergyMilliWh ?? Number.NEGATIVE_INFINITY,
    maxEnergyMilliWh: values.maxEnergyMilliWh ?? Number.POSITIVE_INFINITY,
    minDurationMs: values.minDurationMs ?? Number.NEGATIVE_INFINITY,
    maxDurationMs: values.maxDurationMs ?? Number.POSITIVE_INFINITY,
    minCurrentA: values.minCurrentA ?? null,
    maxCurrentA: values.maxCurrentA ?? null,
    minPowerW: values.minPowerW ?? null,
    maxPowerW: values.maxPowerW ?? null,
    reservation: restrictions?.reservation ?? null,
  };
  const unrestricted =
    compiled.timeWindow === 'none' &&
    compiled.startDay === Number.NEGATIVE_INFINITY &&
    compiled.endDay === Number.POSITIVE_INFINITY &&
    compiled.dayOfWeekMask === ALL_DAYS_MASK &&
    compiled.minEnergyMilliWh === Number.NEGATIVE_INFINITY &&
    compiled.maxEnergyMilliWh === Number.POSITIVE_INFINITY &&
    compiled.minDurationMs === Number.NEGATIVE_INFINITY &&
    compiled.maxDurationMs === Number.POSITIVE_INFINITY &&
    compiled.minCurrentA === null &&
    compiled.maxCurrentA === null &&
    compiled.minPowerW === null &&
    compiled.maxPowerW === null;
  return { ...compiled, unrestricted };
}

function compileTimeWindow(
  start: number | undefined,
  end: number | undefined,
): { kind: TimeWindowKind; startMs: number; endMs: number } {
  if (start === undefined && end === undefined) return { kind: 'none', startMs: 0, endMs: DAY_MS };
  const startMs = start ?? 0;
  // end_time 00:00 (or no end_time) means the end of the day.
  const endMs = end === undefined || end === 0 ? DAY_MS : end;
  if (startMs === 0 && endMs === DAY_MS) return { kind: 'none', startMs, endMs };
  if (startMs === endMs) return { kind: 'never', startMs, endMs };
  return { kind: startMs < endMs ? 'within-day' : 'past-midnight', startMs, endMs };
}
