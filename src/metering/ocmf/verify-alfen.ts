/**
 * Verifies an Alfen Eichrecht record: ECDSA on secp192r1 with SHA-256 over the 82-byte data set, with the public
 * key the record carries or, when the caller knows the meter's key, with that key (a different key in the record
 * is noted). Energy is the register value times 10^scaler, in Wh (DLMS unit 30), exact.
 */

import type { Result } from '../../shared/result.ts';
import { decodeBase32 } from './binary-text.ts';
import { type DecodedPublicKey, decodePublicKey, type PublicKeyMalformed } from './decode-public-key.ts';
import { formatDecimal, shift } from './exact-decimal.ts';
import type { VerdictPublicKey } from './ocmf-verdict.ts';
import type { AlfenRecord, AlfenRecordType } from './parse-alfen.ts';
import type { EnergyReading } from './signed-energy.ts';
import { type Reason, statusFromReasons, type VerdictStatus, type Warning } from './verdict-reason.ts';
import type { SessionRecord } from './verify-session.ts';
import { verifyEcdsaSha256 } from './verify-signature.ts';

/** DLMS/COSEM unit code of watt-hours. */
const DLMS_UNIT_WH = 30;

export type AlfenVerdict = {
  readonly format: 'ALFEN';
  readonly status: VerdictStatus;
  readonly reasons: readonly Reason[];
  readonly warnings: readonly Warning[];
  readonly signature: {
    readonly status: VerdictStatus;
    readonly algorithm: 'ECDSA-secp192r1-SHA256';
    /** 'record': the key the record carries was used; 'given': the caller's key. */
    readonly publicKeySource: 'record' | 'given';
    readonly publicKey: VerdictPublicKey | null;
  };
  readonly curve: 'secp192r1';
  readonly type: AlfenRecordType;
  readonly meterSerial: string;
  /** ISO 8601 UTC time of the reading. */
  readonly time: string;
  readonly obis: string;
  /** The register value in Wh, exact decimal text; null when the unit is not Wh. */
  readonly valueWh: string | null;
  readonly record: AlfenRecord['dataset'] & { readonly blobVersion: string };
};

/** A meter key for an Alfen record: Base32 as Alfen prints it, or any form decodePublicKey reads. */
export function decodeAlfenPublicKey(text: string): Result<DecodedPublicKey, PublicKeyMalformed> {
  const trimmed = text.trim();
  const base32 = /^[A-Z2-7]+=*$/.test(trimmed) ? decodeBase32(trimmed) : undefined;
  return decodePublicKey(base32?.toString('hex') ?? trimmed, { curve: 'secp192r1' });
}

export function verifyAlfen(record: AlfenRecord, publicKey?: string): AlfenVerdict {
  const reasons: Reason[] = [];
  const warnings: Warning[] = [];
  const embedded = decodePublicKey(record.publicKeyBytes.toString('hex'), { curve: 'secp192r1' });
  let key: DecodedPublicKey | undefined = embedded.ok ? embedded.value : undefined;
  let publicKeySource: 'record' | 'given' = 'record';
  if (publicKey !== undefined) {
    publicKeySource = 'given';
    const given = decodeAlfenPublicKey(publicKey);
    if (!given.ok) {
      reasons.push({ code: 'PublicKeyUndecodable', message: given.error.message });
      key = undefined;
    } else {
      // The key field is not part of the signed data set, so only the signature decides; a different key in the
      // record is still worth showing.
      if (key !== undefined && key.spkiHex !== given.value.spkiHex) {
        warnings.push({
          code: 'PublicKeyOverridden',
          message: 'the record carries another public key than the given one; the given key was used',
        });
      }
      key = given.value;
    }
  } else if (key === undefined) {
    reasons.push({
      code: 'PublicKeyUndecodable',
      message: `the record's public key: ${embedded.ok ? '' : embedded.error.message}`,
    });
  } else {
    warnings.push({
      code: 'PublicKeyFromData',
      message: 'verified with the key inside the record: compare it with the key on the meter (or the BNetzA register)',
    });
  }
  let signatureStatus: VerdictStatus = 'unverifiable';
  if (key !== undefined && key.curve !== 'secp192r1') {
    reasons.push({
      code: 'KeyCurveMismatch',
      message: `the public key is on curve ${key.curve}, Alfen signs on secp192r1`,
    });
    signatureStatus = 'invalid';
  } else if (key !== undefined) {
    const valid = verifyEcdsaSha256(
      record.datasetBytes,
      { bytes: record.signatureBytes, encoding: 'ieee-p1363' },
      key.keyObject,
      'secp192r1',
    );
    signatureStatus = valid ? 'valid' : 'invalid';
    if (!valid)
      reasons.push({
        code: 'SignatureMismatch',
        message: 'the signature does not match the data set and the public key',
      });
  }
  const { dataset } = record;
  let valueWh: string | null = null;
  if (dataset.unitCode === DLMS_UNIT_WH) {
    valueWh = formatDecimal(shift({ units: BigInt(dataset.rawValue), scale: 0 }, dataset.scaler));
  } else {
    reasons.push({ code: 'EnergyUnitUnsupported', message: `DLMS unit ${dataset.unitCode} is not Wh (30)` });
  }
  return {
    format: 'ALFEN',
    status: statusFromReasons(reasons),
    reasons,
    warnings,
    signature: {
      status: signatureStatus,
      algorithm: 'ECDSA-secp192r1-SHA256',
      publicKeySource,
      publicKey:
        key === undefined
          ? null
          : { curve: key.curve, form: key.form, textEncoding: key.textEncoding, spkiHex: key.spkiHex },
    },
    curve: 'secp192r1',
    type: record.type,
    meterSerial: dataset.meterIdHex,
    time: new Date(dataset.timestampS * 1000).toISOString(),
    obis: dataset.obis,
    valueWh,
    record: { ...dataset, blobVersion: record.blobVersion },
  };
}

/** The session summary of one verified Alfen record (begin, end or intermediate). */
export function sessionRecordOfAlfen(verdict: AlfenVerdict, label: string): SessionRecord {
  const kind = verdict.type === 'intermediate' ? 'other' : verdict.type;
  const energyReadings: EnergyReading[] =
    verdict.valueWh === null
      ? []
      : [
          {
            registerId: verdict.obis,
            kind,
            valueWh: verdict.valueWh,
            time: { epochMs: verdict.record.timestampS * 1000, status: undefined },
            label: `${label} reading`,
          },
        ];
  return {
    label,
    status: verdict.status,
    sourceSerial: verdict.meterSerial,
    publicKeySpkiHex: verdict.signature.publicKey?.spkiHex ?? null,
    pagination: { context: 'ALFEN', counter: String(verdict.record.paging) },
    identification: verdict.record.uidHex,
    sessionId: String(verdict.record.sessionId),
    hasBegin: verdict.type === 'begin',
    hasEnd: verdict.type === 'end',
    energyReadings,
  };
}
