/**
 * A finding is something noticed about a session that an operator may need to see. A `hold` finding stops the
 * session from being billed automatically; `warn` and `info` are recorded and shown but do not block billing.
 */
export type FindingSeverity = 'info' | 'warn' | 'hold';

export type FindingCode =
  | 'Unauthorized'
  | 'TariffNotFound'
  | 'MeterWentBackwards'
  | 'SampleOutsideSession'
  | 'SampleRegisterOutOfRange'
  | 'SampleLimitReached'
  | 'UnreadableMeterValue'
  | 'StopIdTagDiffers'
  | 'PricingFailed'
  | 'StopMissing'
  // Plausibility rules (src/metering/plausibility/).
  | 'PowerAboveRated'
  | 'SampleGap'
  | 'TimestampInFuture'
  | 'TimestampBeforeSession'
  | 'MeterStartDiscontinuous'
  | 'EnergyDisagreesWithSamples'
  // Meter registry and signed meter values (src/meters/).
  | 'CalibrationLapsed'
  | 'CalibrationUnknown'
  | 'MeterKeyPinned'
  | 'MeterKeyMismatch'
  | 'MeterSerialMismatch'
  | 'SignedDataMissing'
  | 'SignedDataMalformed'
  | 'SignedDataInvalid'
  | 'SignedDataUnverifiable'
  | 'SignedEnergyMismatch'
  | 'SignedDataVerified'
  // Operator decisions on held sessions (src/review/).
  | 'ReviewReleased'
  | 'ReviewVoided';

export type Finding = {
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  readonly message: string;
};

export function hasHold(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'hold');
}
