/**
 * Calibration of a meter, in calendar dates: `validUntil` is the last day (inclusive) on which the meter may be used
 * for billing. A session counts on the local calendar day it ended at the location (a calibration that lapses on
 * 31 December covers a session that ends at 23:59 Berlin time that day, although that is 22:59 UTC).
 */
import { DateTime } from 'luxon';
import type { Finding } from '../sessions/finding.ts';

export type CalibrationStatus = 'valid' | 'due' | 'lapsed' | 'unknown';

/** The calendar date ('YYYY-MM-DD') of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  const local = DateTime.fromJSDate(at, { zone: timeZone });
  return (local.isValid ? local : DateTime.fromJSDate(at, { zone: 'utc' })).toISODate()!;
}

/** Whole days from `today` to `validUntil` (negative once lapsed). */
export function daysUntil(today: string, validUntil: string): number {
  const from = DateTime.fromISO(today, { zone: 'utc' });
  const to = DateTime.fromISO(validUntil, { zone: 'utc' });
  return Math.round(to.diff(from, 'days').days);
}

/** Status of a calibration on `today`, with `dueDays` of warning before it lapses. */
export function calibrationStatus(validUntil: string | null, today: string, dueDays: number): CalibrationStatus {
  if (validUntil === null) return 'unknown';
  const days = daysUntil(today, validUntil);
  if (days < 0) return 'lapsed';
  return days <= dueDays ? 'due' : 'valid';
}

/** The finding for a session that ended at `endedAt` (local `timeZone`) on a meter calibrated until `validUntil`. */
export function checkCalibration(
  meter: { readonly serial: string; readonly calibrationValidUntil: string | null },
  endedAt: Date,
  timeZone: string,
): Finding[] {
  if (meter.calibrationValidUntil === null) {
    return [
      {
        code: 'CalibrationUnknown',
        severity: 'warn',
        message: `meter ${meter.serial} has no calibration date in the registry`,
      },
    ];
  }
  const day = localDate(endedAt, timeZone);
  if (day <= meter.calibrationValidUntil) return [];
  return [
    {
      code: 'CalibrationLapsed',
      severity: 'hold',
      message: `meter ${meter.serial} was calibrated until ${meter.calibrationValidUntil}; the session ended on ${day} (${timeZone})`,
    },
  ];
}
