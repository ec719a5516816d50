/**
 * Checks what an operator enters for a meter before it is stored: real calendar dates, a calibration that does not
 * end before it was made, and a public key that decodes (a bare curve point is accepted: its curve comes from the
 * signed data it verifies). Pure.
 */
import { DateTime } from 'luxon';
import { OCMF_CURVES } from '../metering/ocmf/curves.ts';
import { decodePublicKey } from '../metering/ocmf/decode-public-key.ts';
import { err, ok, type Result } from '../shared/result.ts';

export type MeterInput = {
  readonly serial?: string;
  readonly model?: string | null;
  readonly publicKey?: string | null;
  readonly calibrationCertificateRef?: string | null;
  readonly lastCalibratedOn?: string | null;
  readonly calibrationValidUntil?: string | null;
  readonly signedDataRequired?: boolean;
};

export type MeterInputProblem = { readonly code: 'MeterInvalid'; readonly message: string; readonly path: string };

export function validateMeterInput(
  input: MeterInput,
  current: { readonly lastCalibratedOn: string | null; readonly calibrationValidUntil: string | null } = {
    lastCalibratedOn: null,
    calibrationValidUntil: null,
  },
): Result<MeterInput, MeterInputProblem> {
  const problem = (path: string, message: string) => err({ code: 'MeterInvalid' as const, message, path });
  if (input.serial !== undefined && (input.serial.trim() === '' || input.serial.length > 64)) {
    return problem('$.serial', 'serial must be 1 to 64 characters');
  }
  for (const field of ['lastCalibratedOn', 'calibrationValidUntil'] as const) {
    const value = input[field];
    if (value === undefined || value === null) continue;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !DateTime.fromISO(value, { zone: 'utc' }).isValid) {
      return problem(`$.${field}`, `${field} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`);
    }
  }
  const last = input.lastCalibratedOn === undefined ? current.lastCalibratedOn : input.lastCalibratedOn;
  const until = input.calibrationValidUntil === undefined ? current.calibrationValidUntil : input.calibrationValidUntil;
  if (last !== null && until !== null && last > until) {
    return problem('$.calibrationValidUntil', `the calibration cannot end (${until}) before it was made (${last})`);
  }
  if (input.publicKey !== undefined && input.publicKey !== null) {
    const decoded = decodePublicKey(input.publicKey);
    // A bare point names no curve: accept it when it is a valid point on one of the curves OCMF allows.
    const onSomeCurve =
      !decoded.ok &&
      decoded.error.code === 'PublicKeyCurveUnknown' &&
      OCMF_CURVES.some((curve) => decodePublicKey(input.publicKey!, { curve }).ok);
    if (!decoded.ok && !onSomeCurve) {
      return problem('$.publicKey', `public key: ${decoded.error.code}: ${decoded.error.message}`);
    }
  }
  return ok(input);
}
