/**
 * What the verification of one OCMF record concludes, as plain data (strings, numbers, booleans, arrays) that can
 * be stored, shown and printed as JSON without conversion. Energy is exact decimal text in Wh.
 */

import type { Pagination } from './check-record.ts';
import type { OcmfCurve, OcmfSignatureAlgorithmId } from './curves.ts';
import type { PublicKeyForm, PublicKeyTextEncoding } from './decode-public-key.ts';
import type { OcmfHeader, OcmfReading, OcmfSignatureEncoding } from './ocmf-document.ts';
import type { SignedEnergy } from './signed-energy.ts';
import type { Reason, VerdictStatus, Warning } from './verdict-reason.ts';

export type VerdictPublicKey = {
  readonly curve: OcmfCurve;
  readonly form: PublicKeyForm;
  readonly textEncoding: PublicKeyTextEncoding;
  /** The key as DER SubjectPublicKeyInfo hex, to compare with the key on the meter or in the BNetzA register. */
  readonly spkiHex: string;
};

export type SignatureVerdict = {
  /** valid: the key signed exactly this payload; invalid: it did not (or cannot have); unverifiable: no usable key. */
  readonly status: VerdictStatus;
  /** The algorithm the signature was checked with. */
  readonly algorithm: OcmfSignatureAlgorithmId;
  /** Where that algorithm came from: SA, the OCMF default, the OCPP signingMethod, or (0.x records) the key. */
  readonly algorithmSource: 'SA' | 'default' | 'signingMethod' | 'publicKey';
  readonly encoding: OcmfSignatureEncoding;
  readonly publicKey: VerdictPublicKey | null;
};

/** A reading as parsed, with its value in Wh when it is an energy reading (exact decimal text). */
export type VerdictReading = OcmfReading & { readonly valueWh: string | undefined };

export type OcmfVerdict = {
  readonly format: 'OCMF';
  readonly status: VerdictStatus;
  /** Every error behind an invalid or unverifiable status; empty when valid. */
  readonly reasons: readonly Reason[];
  /** Facts worth showing that do not change the status (tolerated departures, unsynchronised clock, ...). */
  readonly warnings: readonly Warning[];
  readonly signature: SignatureVerdict;
  /** The curve of the algorithm the record was checked with (the key's curve is in signature.publicKey). */
  readonly curve: OcmfCurve;
  /** MS as written; null when absent. */
  readonly meterSerial: string | null;
  /** The serial that identifies the signing source: MS, or GS when MS is absent. */
  readonly sourceSerial: string | null;
  readonly pagination: Pagination | null;
  readonly header: OcmfHeader;
  readonly readings: readonly VerdictReading[];
  /** Begin, end and delta of the billing register when this record holds both readings; otherwise null. */
  readonly energyWh: SignedEnergy | null;
};
