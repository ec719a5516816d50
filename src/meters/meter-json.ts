/** A meter registry row as the API and `voltbill meters` show it. */
import { type CalibrationStatus, calibrationStatus, daysUntil } from './calibration-status.ts';
import type { MeterRow } from './meter-store.ts';

export type MeterJson = {
  readonly id: string;
  readonly stationId: string;
  readonly evseId: number;
  readonly serial: string;
  readonly model: string | null;
  readonly publicKey: string | null;
  readonly keySource: 'configured' | 'pinned' | null;
  readonly keyPinnedAt: string | null;
  readonly calibrationCertificateRef: string | null;
  readonly lastCalibratedOn: string | null;
  readonly calibrationValidUntil: string | null;
  readonly signedDataRequired: boolean;
  /** On `today`: valid, due (within the window asked for), lapsed, or unknown (no date). */
  readonly calibrationStatus: CalibrationStatus;
  /** Days from today to the last valid day; negative once lapsed; null without a date. */
  readonly daysLeft: number | null;
};

export function meterJson(row: MeterRow, today: string, dueDays: number): MeterJson {
  return {
    id: row.id,
    stationId: row.station_id,
    evseId: row.evse_id,
    serial: row.serial,
    model: row.model,
    publicKey: row.public_key,
    keySource: row.key_source,
    keyPinnedAt: row.key_pinned_at ? row.key_pinned_at.toISOString() : null,
    calibrationCertificateRef: row.calibration_certificate_ref,
    lastCalibratedOn: row.last_calibrated_on,
    calibrationValidUntil: row.calibration_valid_until,
    signedDataRequired: row.signed_data_required,
    calibrationStatus: calibrationStatus(row.calibration_valid_until, today, dueDays),
    daysLeft: row.calibration_valid_until === null ? null : daysUntil(today, row.calibration_valid_until),
  };
}

/** The last day of a due window of `days` days from `today` ('YYYY-MM-DD'). */
export function dueWindowEnd(today: string, days: number): string {
  const [year, month, day] = today.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}
