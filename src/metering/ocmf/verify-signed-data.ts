/**
 * Verifies one signed meter value as it comes out of its transport (unwrap-signed-data.ts): parses the OCMF or
 * Alfen text, decodes the public key with the curve the record names, and returns the record's verdict.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import { resolveSignatureAlgorithm } from './curves.ts';
import { type DecodedPublicKey, decodePublicKey } from './decode-public-key.ts';
import type { OcmfVerdict } from './ocmf-verdict.ts';
import { parseAlfen } from './parse-alfen.ts';
import { parseOcmf } from './parse-ocmf.ts';
import type { UnwrappedSignedData } from './unwrap-signed-data.ts';
import type { Warning } from './verdict-reason.ts';
import { type AlfenVerdict, decodeAlfenPublicKey, verifyAlfen } from './verify-alfen.ts';
import { verifyOcmf } from './verify-ocmf.ts';

export type SignedDataMalformed = { readonly code: string; readonly message: string };

/**
 * Verifies one unwrapped signed value (OCMF or Alfen). `trustedKey` is the meter's key as the caller knows it (the
 * station's registered key, --public-key); it replaces the key the data carries, and a difference is noted. An
 * error result means the data or a key cannot be decoded at all (OcmfMalformed, AlfenMalformed or
 * PublicKeyMalformed codes); everything else is a verdict.
 */
export function verifySignedData(
  data: UnwrappedSignedData & { readonly publicKeyEncoding?: 'hex' | 'base64' },
  trustedKey?: string,
): Result<OcmfVerdict | AlfenVerdict, SignedDataMalformed> {
  if (data.format === 'ALFEN') {
    const record = parseAlfen(data.text);
    if (!record.ok) return err(record.error);
    const key = trustedKey ?? data.publicKey;
    const decoded = key === undefined ? undefined : decodeAlfenPublicKey(key);
    if (decoded?.ok === false)
      return err({ code: decoded.error.code, message: `public key: ${decoded.error.message}` });
    return ok(verifyAlfen(record.value, key));
  }
  const doc = parseOcmf(data.text);
  if (!doc.ok) return err(doc.error);
  const curve =
    (doc.value.signature.SA === undefined && data.signingMethod !== undefined
      ? resolveSignatureAlgorithm(data.signingMethod)?.algorithm.curve
      : undefined) ?? doc.value.signature.algorithm.curve;
  const decodeKey = (text: string, encoding: 'hex' | 'base64' | undefined) =>
    decodePublicKey(text, { curve, encoding });
  let key: DecodedPublicKey | undefined;
  const extraWarnings: Warning[] = [];
  const source = trustedKey ?? data.publicKey;
  if (source !== undefined) {
    const decoded = decodeKey(source, trustedKey === undefined ? data.publicKeyEncoding : undefined);
    if (!decoded.ok) return err({ code: decoded.error.code, message: `public key: ${decoded.error.message}` });
    key = decoded.value;
    if (trustedKey !== undefined && data.publicKey !== undefined) {
      const carried = decodeKey(data.publicKey, data.publicKeyEncoding);
      if (!carried.ok || carried.value.spkiHex !== key.spkiHex) {
        extraWarnings.push({
          code: 'PublicKeyOverridden',
          message: 'the data carries another public key than the trusted one; the trusted key was used',
        });
      }
    }
  }
  const verdict = verifyOcmf(doc.value, key, { signingMethod: data.signingMethod });
  return ok(extraWarnings.length === 0 ? verdict : { ...verdict, warnings: [...verdict.warnings, ...extraWarnings] });
}
