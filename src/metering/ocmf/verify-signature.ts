/**
 * ECDSA verification with SHA-256 over the exact payload bytes, on any OCMF curve, through node:crypto (OpenSSL).
 * Canonical DER goes to OpenSSL as it is; a raw r||s pair and DER with non-canonical (fixed-width) integers are
 * passed as the IEEE P1363 concatenation of the same two integers.
 */
import { type KeyObject, verify } from 'node:crypto';
import { CURVES, type OcmfCurve } from './curves.ts';
import { parseDerEcdsaSignature, toRawSignature } from './der.ts';
import type { OcmfSignatureEncoding } from './ocmf-document.ts';

export type SignatureToCheck = { readonly bytes: Uint8Array; readonly encoding: OcmfSignatureEncoding };

/** True when `signature` is a valid ECDSA/SHA-256 signature of `data` by `key` on `curve`; never throws. */
export function verifyEcdsaSha256(
  data: Uint8Array,
  signature: SignatureToCheck,
  key: KeyObject,
  curve: OcmfCurve,
): boolean {
  const coordinateBytes = CURVES[curve].coordinateBytes;
  let bytes: Uint8Array | undefined = signature.bytes;
  let dsaEncoding: 'der' | 'ieee-p1363' = 'ieee-p1363';
  if (signature.encoding === 'der') {
    dsaEncoding = 'der';
  } else if (signature.encoding === 'der-non-canonical') {
    const values = parseDerEcdsaSignature(signature.bytes);
    bytes = values === undefined ? undefined : toRawSignature(values, coordinateBytes);
  } else if (bytes.length !== 2 * coordinateBytes) {
    bytes = undefined;
  }
  if (bytes === undefined) return false;
  try {
    return verify('sha256', data, { key, dsaEncoding }, bytes);
  } catch {
    // OpenSSL rejects some malformed inputs by throwing; for a verifier that is simply "not valid".
    return false;
  }
}
