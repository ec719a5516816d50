/**
 * Reads an OCPI 2.2.1 CDR document (JSON) into a CDR PricingInput. Only what pricing needs is checked here
 * (timestamps, the period list, the currency); the volumes are validated by the engine with the same JSON paths.
 * The CDR's own total_* fields are ignored: pricing computes them.
 */
import { parseDateTimeMs } from './parse-date-time.ts';
import type { CdrChargingPeriod, PricingInput } from './pricing-input.ts';
import {
  expectArray,
  expectObject,
  expectString,
  itemPath,
  type JsonObject,
  JsonValueInvalid,
  memberPath,
  requireMember,
} from './read-json.ts';

export type CdrDocument = {
  readonly document: JsonObject;
  readonly input: Extract<PricingInput, { kind: 'cdr' }>;
  /** The CDR's currency, when it states one. */
  readonly currency: string | undefined;
};

/** Throws JsonValueInvalid naming the path of the first problem. */
export function readCdrDocument(json: unknown): CdrDocument {
  const document = expectObject(json, '$');
  const startedAt = readDate(requireMember(document, 'start_date_time', '$'), '$.start_date_time');
  const endedAt = readDate(requireMember(document, 'end_date_time', '$'), '$.end_date_time');
  const currencyJson = document.currency;
  const currency =
    currencyJson === undefined || currencyJson === null ? undefined : expectString(currencyJson, '$.currency');
  const periodsJson = expectArray(requireMember(document, 'charging_periods', '$'), '$.charging_periods', 1);
  const periods = periodsJson.map((item, index): CdrChargingPeriod => {
    const path = itemPath('$.charging_periods', index);
    const period = expectObject(item, path);
    const periodStartedAt = readDate(
      requireMember(period, 'start_date_time', path),
      memberPath(path, 'start_date_time'),
    );
    const dimensionsPath = memberPath(path, 'dimensions');
    const dimensions = expectArray(requireMember(period, 'dimensions', path), dimensionsPath, 1).map((entry, j) => {
      const dimensionPath = itemPath(dimensionsPath, j);
      const dimension = expectObject(entry, dimensionPath);
      const type = expectString(requireMember(dimension, 'type', dimensionPath), memberPath(dimensionPath, 'type'));
      const volume = requireMember(dimension, 'volume', dimensionPath);
      if (typeof volume !== 'number' && typeof volume !== 'string') {
        throw new JsonValueInvalid(memberPath(dimensionPath, 'volume'), 'expected a non-negative number');
      }
      return { type, volume };
    });
    const tariffIdJson = period.tariff_id;
    const tariffId =
      tariffIdJson === undefined || tariffIdJson === null
        ? undefined
        : expectString(tariffIdJson, memberPath(path, 'tariff_id'), 36);
    return tariffId === undefined
      ? { startedAt: periodStartedAt, dimensions }
      : { startedAt: periodStartedAt, dimensions, tariffId };
  });
  return { document, input: { kind: 'cdr', startedAt, endedAt, periods }, currency };
}

function readDate(value: unknown, path: string): Date {
  const ms = parseDateTimeMs(expectString(value, path), 'utc');
  if (typeof ms === 'string') throw new JsonValueInvalid(path, ms);
  return new Date(ms);
}
