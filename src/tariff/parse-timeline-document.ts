/**
 * Reads Voltbill's session timeline document (docs/specs/tariffs.md):
 * `{ "timeZone", "startedAt", "endedAt", "samples": [{ "at", "energyWh", "state", "powerW"?, "currentA"? }] }`.
 * Timestamps need an explicit offset (`Z` or `+02:00`): a local time without one would be a guess. The sample
 * values are checked by the engine (validate-timeline.ts) with the same JSON paths.
 */
import { parseDateTimeMs } from './parse-date-time.ts';
import { CHARGING_STATES, type SessionTimeline, type TimelineSample } from './pricing-input.ts';
import {
  expectArray,
  expectEnum,
  expectFiniteNumber,
  expectObject,
  expectString,
  itemPath,
  JsonValueInvalid,
  memberPath,
  requireMember,
} from './read-json.ts';

export type TimelineDocument = {
  readonly timeline: SessionTimeline;
  /** The document's time zone, when it states one. */
  readonly timeZone: string | undefined;
};

/** Throws JsonValueInvalid naming the path of the first problem. */
export function readTimelineDocument(json: unknown): TimelineDocument {
  const document = expectObject(json, '$');
  const timeZoneJson = document.timeZone;
  const timeZone =
    timeZoneJson === undefined || timeZoneJson === null ? undefined : expectString(timeZoneJson, '$.timeZone');
  const startedAt = readDate(requireMember(document, 'startedAt', '$'), '$.startedAt');
  const endedAt = readDate(requireMember(document, 'endedAt', '$'), '$.endedAt');
  const samples = expectArray(requireMember(document, 'samples', '$'), '$.samples').map(
    (item, index): TimelineSample => {
      const path = itemPath('$.samples', index);
      const sample = expectObject(item, path);
      const at = readDate(requireMember(sample, 'at', path), memberPath(path, 'at'));
      const energyWh = expectFiniteNumber(requireMember(sample, 'energyWh', path), memberPath(path, 'energyWh'));
      const state = expectEnum(requireMember(sample, 'state', path), memberPath(path, 'state'), CHARGING_STATES);
      const powerW = optionalNumber(sample.powerW, memberPath(path, 'powerW'));
      const currentA = optionalNumber(sample.currentA, memberPath(path, 'currentA'));
      return {
        at,
        energyWh,
        state,
        ...(powerW !== undefined && { powerW }),
        ...(currentA !== undefined && { currentA }),
      };
    },
  );
  return { timeline: { startedAt, endedAt, samples }, timeZone };
}

function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  return expectFiniteNumber(value, path, true);
}

function readDate(value: unknown, path: string): Date {
  const ms = parseDateTimeMs(expectString(value, path), 'reject');
  if (typeof ms === 'string') throw new JsonValueInvalid(path, ms);
  return new Date(ms);
}
