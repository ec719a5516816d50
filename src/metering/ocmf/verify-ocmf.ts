/**
 * Verifies one OCMF record: the ECDSA signature over the exact payload bytes with the meter's public key, and the
 * consistency of the record's contents (check-record.ts). A record without a key is 'unverifiable', never
 * 'valid'; a key on another curve than the algorithm, a signature that does not match, or inconsistent contents
 * make it 'invalid'. Optionally the signed energy is compared exactly with the billed energy.
 */

import { assert } from '../../shared/assert.ts';
import { checkRecord } from './check-record.ts';
import { algorithmForCurve, type OcmfCurve, resolveSignatureAlgorithm } from './curves.ts';
import { type DecodedPublicKey, decodePublicKey } from './decode-public-key.ts';
import { formatDecimal } from './exact-decimal.ts';
import type { OcmfDocument } from './ocmf-document.ts';
import type { OcmfVerdict, SignatureVerdict, VerdictReading } from './ocmf-verdict.ts';
import { type BilledEnergy, checkBilledEnergy, readingValueWh } from './signed-energy.ts';
import { type Reason, statusFromReasons, type Warning } from './verdict-reason.ts';
import { verifyEcdsaSha256 } from './verify-signature.ts';

/** The exact comparison of signed and billed energy, next to the verifier that produces the signed energy. */
export { type BilledEnergy, checkBilledEnergy } from './signed-energy.ts';

export type VerifyOcmfOptions = {
  /** OCPP signingMethod sent next to the record; applies when the record has no SA, must agree when it has. */
  readonly signingMethod?: string;
  /** How a key text is encoded when its container says so (Transparenzsoftware XML). */
  readonly publicKeyEncoding?: 'hex' | 'base64';
  /** When given, the signed energy must equal it exactly (reason BilledEnergyMismatch or SignedEnergyMissing). */
  readonly billedEnergy?: BilledEnergy;
};

/** Format versions before 0.4 had no default algorithm; their curve is the key's. */
const VERSIONS_WITHOUT_DEFAULT_ALGORITHM = new Set(['0.1', '0.2', '0.3']);

/**
 * Verifies `doc` with `publicKey` (any text decodePublicKey reads, or an already decoded key). Never throws for
 * bad input: every problem is a reason in the verdict.
 */
export function verifyOcmf(
  doc: OcmfDocument,
  publicKey: string | DecodedPublicKey | undefined,
  options: VerifyOcmfOptions = {},
): OcmfVerdict {
  const reasons: Reason[] = [];
  const warnings: Warning[] = [...doc.deviations];
  const signature = verifyRecordSignature(doc, publicKey, options, reasons, warnings);
  const record = checkRecord(doc);
  reasons.push(...record.reasons);
  warnings.push(...record.warnings);
  if (options.billedEnergy !== undefined) {
    const billed = checkBilledEnergy(record.energyWh, options.billedEnergy);
    if (!billed.ok) {
      reasons.push({
        code: billed.error.code === 'SignedEnergyMissing' ? 'SignedEnergyMissing' : 'BilledEnergyMismatch',
        message: billed.error.message,
      });
    }
  }
  const readings: VerdictReading[] = doc.readings.map((reading) => {
    const value = readingValueWh(reading);
    return { ...reading, valueWh: value === undefined ? undefined : formatDecimal(value) };
  });
  return {
    format: 'OCMF',
    status: statusFromReasons(reasons),
    reasons,
    warnings,
    signature,
    curve: algorithmCurve(signature),
    meterSerial: doc.header.MS ?? null,
    sourceSerial: record.sourceSerial,
    pagination: record.pagination,
    header: doc.header,
    readings,
    energyWh: record.energyWh,
  };
}

function algorithmCurve(signature: SignatureVerdict): OcmfCurve {
  const resolved = resolveSignatureAlgorithm(signature.algorithm);
  assert(resolved !== undefined, `verdict algorithm ${signature.algorithm} is an OCMF algorithm`);
  return resolved.algorithm.curve;
}

function verifyRecordSignature(
  doc: OcmfDocument,
  publicKey: string | DecodedPublicKey | undefined,
  options: VerifyOcmfOptions,
  reasons: Reason[],
  warnings: Warning[],
): SignatureVerdict {
  let algorithm = doc.signature.algorithm;
  let algorithmSource: SignatureVerdict['algorithmSource'] = doc.signature.SA === undefined ? 'default' : 'SA';
  const verdict = (status: SignatureVerdict['status'], key: DecodedPublicKey | null): SignatureVerdict => ({
    status,
    algorithm: algorithm.id,
    algorithmSource,
    encoding: doc.signature.encoding,
    publicKey:
      key === null ? null : { curve: key.curve, form: key.form, textEncoding: key.textEncoding, spkiHex: key.spkiHex },
  });

  const signingMethod = options.signingMethod?.trim();
  if (signingMethod !== undefined && signingMethod !== '') {
    const resolved = resolveSignatureAlgorithm(signingMethod);
    if (resolved === undefined) {
      reasons.push({
        code: 'SigningMethodConflict',
        message: `signingMethod '${signingMethod}' is not an OCMF algorithm`,
      });
      return verdict('invalid', null);
    }
    if (algorithmSource === 'SA' && resolved.algorithm.id !== algorithm.id) {
      reasons.push({
        code: 'SigningMethodConflict',
        message: `signingMethod ${resolved.algorithm.id} contradicts the record's SA ${algorithm.id}`,
      });
      return verdict('invalid', null);
    }
    if (algorithmSource === 'default') {
      algorithm = resolved.algorithm;
      algorithmSource = 'signingMethod';
      warnings.push({
        code: 'AlgorithmFromSigningMethod',
        message: `no SA: the OCPP signingMethod ${algorithm.id} applies`,
      });
    }
  }

  if (publicKey === undefined) {
    reasons.push({ code: 'PublicKeyMissing', message: 'no public key: the signature cannot be checked' });
    return verdict('unverifiable', null);
  }
  let key: DecodedPublicKey;
  if (typeof publicKey === 'string') {
    const decoded = decodePublicKey(publicKey, { curve: algorithm.curve, encoding: options.publicKeyEncoding });
    if (!decoded.ok) {
      reasons.push({ code: 'PublicKeyUndecodable', message: decoded.error.message });
      return verdict('unverifiable', null);
    }
    key = decoded.value;
  } else {
    key = publicKey;
  }

  if (key.curve !== algorithm.curve) {
    if (algorithmSource === 'default' && VERSIONS_WITHOUT_DEFAULT_ALGORITHM.has(doc.header.FV ?? '')) {
      algorithm = algorithmForCurve(key.curve);
      algorithmSource = 'publicKey';
      warnings.push({
        code: 'AlgorithmFromKey',
        message: `format ${doc.header.FV} has no default algorithm; the key's curve gives ${algorithm.id}`,
      });
    } else {
      reasons.push({
        code: 'KeyCurveMismatch',
        message: `the public key is on curve ${key.curve} but the record is signed with ${algorithm.id}`,
      });
      return verdict('invalid', key);
    }
  }
  if (!verifyEcdsaSha256(doc.payloadBytes, doc.signature, key.keyObject, key.curve)) {
    reasons.push({
      code: 'SignatureMismatch',
      message: 'the signature does not match the payload and this public key (altered data or another key)',
    });
    return verdict('invalid', key);
  }
  return verdict('valid', key);
}
