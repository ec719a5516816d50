/**
 * Decodes a meter's public key from any of the forms seen in the field into a node KeyObject:
 *
 * - text: hex (also printed in groups, "3059 3013 ...", or with a 0x prefix), Base64, PEM, and the OCA application
 *   note's envelope "oca:base16:asn1:<hex>" (bare or, as OCPP transports it, Base64-encoded; also Base64 over plain
 *   hex, as that note's own example message sends it);
 * - bytes: a DER SubjectPublicKeyInfo (the curve is inside), an uncompressed SEC1 point 04||X||Y, a compressed
 *   point 02/03||X, or a bare X||Y as Isabellenhuette meters print it. The three point forms carry no curve, so the
 *   caller passes the curve the record's signature algorithm names; a point that does not fit it is an error.
 */
import { createPublicKey, ECDH, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../../shared/result.ts';
import { decodeBase64, decodeLooseHex, isPrintableAscii } from './binary-text.ts';
import { CURVES, curveFromNodeName, type OcmfCurve } from './curves.ts';
import { spkiForUncompressedPoint } from './der.ts';
import { MAX_PUBLIC_KEY_TEXT_CHARS } from './limits.ts';

export type PublicKeyForm = 'spki' | 'uncompressed-point' | 'compressed-point' | 'raw-xy';
export type PublicKeyTextEncoding = 'hex' | 'base64' | 'base64-of-hex' | 'pem' | 'oca-base16' | 'oca-base64';

export type DecodedPublicKey = {
  readonly keyObject: KeyObject;
  readonly curve: OcmfCurve;
  readonly form: PublicKeyForm;
  readonly textEncoding: PublicKeyTextEncoding;
  /** The key as a DER SubjectPublicKeyInfo in lower-case hex: one canonical text to compare and to print. */
  readonly spkiHex: string;
};

export type PublicKeyMalformedCode =
  | 'PublicKeyEmpty'
  | 'PublicKeyTooLong'
  | 'PublicKeyEncoding'
  | 'PublicKeyOcaEnvelope'
  | 'PublicKeyStructure'
  | 'PublicKeyNotEc'
  | 'PublicKeyCurveUnsupported'
  | 'PublicKeyCurveUnknown'
  | 'PublicKeyPointInvalid';

export type PublicKeyMalformed = { readonly code: PublicKeyMalformedCode; readonly message: string };

export type DecodePublicKeyOptions = {
  /** The curve of the record's signature algorithm; needed to read a bare point, checked against nothing else. */
  readonly curve?: OcmfCurve;
  /** How the text is encoded when the container says so (a Transparenzsoftware XML encoding attribute). */
  readonly encoding?: 'hex' | 'base64';
};

type KeyBytes = { readonly bytes: Buffer; readonly textEncoding: PublicKeyTextEncoding };

const PEM_PATTERN = /^-----BEGIN PUBLIC KEY-----([\s\S]*)-----END PUBLIC KEY-----$/;

/**
 * Decoded keys by their text and options, most recently used last. Decoding is far dearer than the signature check
 * it serves: OpenSSL 3's decoder in createPublicKey and the DER export of the canonical form cost about 8 times one
 * ECDSA verification (measured: bench/e2e.bench.ts --signed, 14 % of the node's CPU against 1.7 % for the
 * verifications), and the same few keys come back with every session of their meters (the registered key and the
 * one the data carries, for each record, at the stop and again for the CDR). A decoded key is immutable, so a key
 * text always decodes to the same result: only successes are kept, at most DECODED_KEYS_LIMIT of them (one per
 * meter of a large network; the least recently used goes first).
 */
const decodedKeys = new Map<string, DecodedPublicKey>();
export const DECODED_KEYS_LIMIT = 20_000;
/**
 * Longer texts are decoded every time, not kept: every real form of a key on an OCMF curve is shorter (P-521's SPKI
 * as Base64 of the OCA envelope, the longest, is about 450 characters), so the kept texts take at most about 20 MB
 * however a station pads its keys.
 */
const MAX_KEPT_KEY_TEXT_CHARS = 1_024;

/** Decodes a public key text; see the module comment for the accepted forms. */
export function decodePublicKey(
  text: string,
  options: DecodePublicKeyOptions = {},
): Result<DecodedPublicKey, PublicKeyMalformed> {
  if (text.length > MAX_PUBLIC_KEY_TEXT_CHARS) {
    return malformed('PublicKeyTooLong', `the public key text is longer than ${MAX_PUBLIC_KEY_TEXT_CHARS} characters`);
  }
  const cacheKey = `${options.curve ?? ''}\u0000${options.encoding ?? ''}\u0000${text}`;
  const cached = decodedKeys.get(cacheKey);
  if (cached !== undefined) {
    decodedKeys.delete(cacheKey);
    decodedKeys.set(cacheKey, cached);
    return ok(cached);
  }
  const decoded = decodeUncached(text, options);
  if (decoded.ok && text.length <= MAX_KEPT_KEY_TEXT_CHARS) {
    if (decodedKeys.size >= DECODED_KEYS_LIMIT) decodedKeys.delete(decodedKeys.keys().next().value as string);
    decodedKeys.set(cacheKey, Object.freeze(decoded.value));
  }
  return decoded;
}

/** How many decoded keys are kept now (for tests). */
export function decodedKeysKept(): number {
  return decodedKeys.size;
}

function decodeUncached(text: string, options: DecodePublicKeyOptions): Result<DecodedPublicKey, PublicKeyMalformed> {
  if (text.length > MAX_PUBLIC_KEY_TEXT_CHARS) {
    return malformed('PublicKeyTooLong', `the public key text is longer than ${MAX_PUBLIC_KEY_TEXT_CHARS} characters`);
  }
  const trimmed = text.trim();
  if (trimmed.length === 0) return malformed('PublicKeyEmpty', 'the public key is empty');
  const bytes = keyTextToBytes(trimmed, options.encoding);
  if (!bytes.ok) return bytes;
  return keyFromBytes(bytes.value, options.curve);
}

function keyTextToBytes(text: string, encoding: 'hex' | 'base64' | undefined): Result<KeyBytes, PublicKeyMalformed> {
  const pem = PEM_PATTERN.exec(text);
  if (pem !== null) {
    const bytes = decodeBase64(pem[1] ?? '');
    return bytes === undefined
      ? malformed('PublicKeyEncoding', 'the PEM public key does not contain Base64')
      : ok({ bytes, textEncoding: 'pem' });
  }
  if (/^oca:/i.test(text)) return decodeOcaEnvelope(text);
  if (encoding !== 'base64') {
    const hex = decodeLooseHex(text);
    if (hex !== undefined) return ok({ bytes: hex, textEncoding: 'hex' });
    if (encoding === 'hex') return malformed('PublicKeyEncoding', 'the public key is declared hex but is not');
  }
  const base64 = decodeBase64(text);
  if (base64 === undefined) {
    return malformed('PublicKeyEncoding', 'the public key is neither hex, Base64, PEM nor an OCA key envelope');
  }
  // OCPP carries the key as Base64 of a text: the OCA envelope, or (in that note's example) plain hex.
  if (isPrintableAscii(base64)) {
    const inner = base64.toString('latin1').trim();
    if (/^oca:/i.test(inner)) return decodeOcaEnvelope(inner);
    const hex = decodeLooseHex(inner);
    if (hex !== undefined) return ok({ bytes: hex, textEncoding: 'base64-of-hex' });
  }
  return ok({ bytes: base64, textEncoding: 'base64' });
}

/** "oca:<encoding>:<content-type>:<printed-public-key>" (OCA signed meter values application note, 3.2.2). */
function decodeOcaEnvelope(text: string): Result<KeyBytes, PublicKeyMalformed> {
  const parts = text.split(':');
  if (parts.length !== 4) {
    return malformed('PublicKeyOcaEnvelope', 'an OCA public key must read oca:<encoding>:<content-type>:<key>');
  }
  const [, encoding = '', contentType = '', printed = ''] = parts;
  if (contentType.toLowerCase() !== 'asn1') {
    return malformed('PublicKeyOcaEnvelope', `the OCA key content type '${contentType}' is not asn1`);
  }
  if (encoding.toLowerCase() === 'base16') {
    // The note says to ignore every non-hex character (group separators) and a 0x prefix.
    const bytes = decodeLooseHex(printed.replace(/^0x/i, '').replace(/[^0-9a-fA-F]/g, ''));
    return bytes === undefined
      ? malformed('PublicKeyOcaEnvelope', 'the OCA base16 key has an odd number of hex digits')
      : ok({ bytes, textEncoding: 'oca-base16' });
  }
  if (encoding.toLowerCase() === 'base64') {
    const bytes = decodeBase64(printed);
    return bytes === undefined
      ? malformed('PublicKeyOcaEnvelope', 'the OCA base64 key is not Base64')
      : ok({ bytes, textEncoding: 'oca-base64' });
  }
  return malformed('PublicKeyOcaEnvelope', `the OCA key encoding '${encoding}' is neither base16 nor base64`);
}

function keyFromBytes(key: KeyBytes, curveHint: OcmfCurve | undefined): Result<DecodedPublicKey, PublicKeyMalformed> {
  const { bytes } = key;
  if (bytes[0] === 0x30) {
    const spki = keyFromSpki(key);
    // A bare X||Y whose X happens to begin with 0x30 is no SubjectPublicKeyInfo; try it as a point below.
    if (spki.ok || curveHint === undefined || bytes.length !== 2 * CURVES[curveHint].coordinateBytes) return spki;
  }
  if (curveHint === undefined) {
    return malformed('PublicKeyCurveUnknown', 'a bare curve point needs a signature algorithm that names the curve');
  }
  const size = CURVES[curveHint].coordinateBytes;
  if (bytes.length === 2 * size + 1 && bytes[0] === 0x04)
    return keyFromPoint(key, curveHint, bytes, 'uncompressed-point');
  if (bytes.length === size + 1 && (bytes[0] === 0x02 || bytes[0] === 0x03)) {
    let point: Buffer;
    try {
      point = ECDH.convertKey(bytes, CURVES[curveHint].nodeName, undefined, undefined, 'uncompressed') as Buffer;
    } catch {
      return malformed('PublicKeyPointInvalid', `the compressed point is not on curve ${curveHint}`);
    }
    return keyFromPoint(key, curveHint, point, 'compressed-point');
  }
  if (bytes.length === 2 * size) {
    return keyFromPoint(key, curveHint, Buffer.concat([Buffer.from([0x04]), bytes]), 'raw-xy');
  }
  return malformed(
    'PublicKeyStructure',
    `a ${bytes.length}-byte public key is neither a SubjectPublicKeyInfo nor a point on curve ${curveHint}` +
      ` (${2 * size} bytes X||Y, ${2 * size + 1} uncompressed, ${size + 1} compressed)`,
  );
}

function keyFromSpki(key: KeyBytes): Result<DecodedPublicKey, PublicKeyMalformed> {
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: key.bytes, format: 'der', type: 'spki' });
  } catch {
    return malformed('PublicKeyStructure', 'the public key is not a valid DER SubjectPublicKeyInfo');
  }
  if (keyObject.asymmetricKeyType !== 'ec') {
    return malformed('PublicKeyNotEc', `the public key is ${keyObject.asymmetricKeyType ?? 'unknown'}, not ECDSA`);
  }
  const namedCurve = keyObject.asymmetricKeyDetails?.namedCurve;
  const curve = namedCurve === undefined ? undefined : curveFromNodeName(namedCurve);
  if (curve === undefined) {
    return malformed(
      'PublicKeyCurveUnsupported',
      `the key's curve ${namedCurve ?? '(explicit parameters)'} is not an OCMF curve`,
    );
  }
  return ok({ keyObject, curve, form: 'spki', textEncoding: key.textEncoding, spkiHex: spkiHexOf(keyObject) });
}

function keyFromPoint(
  key: KeyBytes,
  curve: OcmfCurve,
  uncompressedPoint: Buffer,
  form: PublicKeyForm,
): Result<DecodedPublicKey, PublicKeyMalformed> {
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({
      key: spkiForUncompressedPoint(curve, uncompressedPoint),
      format: 'der',
      type: 'spki',
    });
  } catch {
    return malformed('PublicKeyPointInvalid', `the public key point is not on curve ${curve}`);
  }
  return ok({ keyObject, curve, form, textEncoding: key.textEncoding, spkiHex: spkiHexOf(keyObject) });
}

function spkiHexOf(keyObject: KeyObject): string {
  return keyObject.export({ format: 'der', type: 'spki' }).toString('hex');
}

function malformed(code: PublicKeyMalformedCode, message: string): Result<never, PublicKeyMalformed> {
  return err({ code, message });
}
