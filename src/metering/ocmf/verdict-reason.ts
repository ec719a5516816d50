/**
 * The closed sets of codes a verdict explains itself with. A reason is an error: it makes a record or a session
 * 'invalid' (or 'unverifiable' for the two key codes below). A warning is a fact an auditor should see that does
 * not change the verdict: a tolerated departure from the specification, an unsynchronised clock.
 */

export type VerdictStatus = 'valid' | 'invalid' | 'unverifiable';

/** Reasons that leave a record unverifiable rather than invalid: nothing proves it wrong, nothing proves it right. */
export const UNVERIFIABLE_REASON_CODES = ['PublicKeyMissing', 'PublicKeyUndecodable', 'RecordUnverifiable'] as const;

export type ReasonCode =
  | (typeof UNVERIFIABLE_REASON_CODES)[number]
  // The signature.
  | 'SignatureMismatch'
  | 'KeyCurveMismatch'
  | 'SigningMethodConflict'
  // One record's contents.
  | 'PaginationMissing'
  | 'PaginationMalformed'
  | 'SerialNumberMissing'
  | 'MeterErrorFlagged'
  | 'MeterStatusNotOk'
  | 'ReadingsOutOfOrder'
  | 'TransactionBeginRepeated'
  | 'MeterRunningBackwards'
  | 'TimeGoesBackwards'
  | 'ReadingValueNegative'
  | 'EnergyUnitUnsupported'
  // Several records of one session.
  | 'RecordInvalid'
  | 'MeterSerialChanged'
  | 'PublicKeyChanged'
  | 'PaginationContextMixed'
  | 'PaginationGap'
  | 'PaginationDuplicate'
  | 'TransactionBeginMissing'
  | 'TransactionEndMissing'
  | 'RegisterMismatch'
  | 'SessionIdChanged'
  | 'TooManyRecords'
  // The bill.
  | 'BilledEnergyMismatch'
  | 'SignedEnergyMissing';

export type WarningCode =
  // Tolerated departures from the OCMF text, recorded by the parser.
  | 'NumberAsString'
  | 'ReadingValueAsString'
  | 'NullField'
  | 'UnknownField'
  | 'IdentificationStatusAsString'
  | 'IdentificationFlagsNotArray'
  | 'LegacyFormatVersion'
  | 'FormatVersionUnknown'
  | 'AlgorithmSpelling'
  | 'AlgorithmDefault'
  | 'RawSignature'
  | 'SignatureDerNonCanonical'
  | 'SignatureEncodingUndeclared'
  | 'TimeSeparator'
  | 'TimeStatusMissing'
  | 'UnitUnknown'
  // Facts about the verified content.
  | 'AlgorithmFromKey'
  | 'AlgorithmFromSigningMethod'
  | 'MeterSerialMissing'
  | 'TimeNotSynchronized'
  | 'TransactionException'
  | 'IdentificationChanged'
  | 'PublicKeyFromData'
  | 'PublicKeyOverridden';

export type Reason = { readonly code: ReasonCode; readonly message: string };
export type Warning = { readonly code: WarningCode; readonly message: string };

/** The status a list of reasons leads to, given whether the signature itself could be checked. */
export function statusFromReasons(reasons: readonly Reason[]): VerdictStatus {
  const unverifiable = new Set<string>(UNVERIFIABLE_REASON_CODES);
  if (reasons.some((reason) => !unverifiable.has(reason.code))) return 'invalid';
  return reasons.length > 0 ? 'unverifiable' : 'valid';
}
