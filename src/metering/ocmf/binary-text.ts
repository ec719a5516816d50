/**
 * Text encodings of binary data as they occur in signed meter values: hex (OCMF's default for signatures; keys
 * printed on meters come in groups like "3059 3013 ..."), Base64 (OCPP fields, some signatures and keys) and
 * Base32 (Alfen). Every decoder is strict about the alphabet and returns undefined instead of guessing.
 */

const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Strict hex: an even number of hex digits and nothing else. */
export function decodeHex(text: string): Buffer | undefined {
  return HEX_PATTERN.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/**
 * Hex as people print it: separators (spaces, line breaks, colons, dashes) between digits and an optional 0x prefix
 * are ignored, as the OCA application note prescribes for printed public keys. Returns undefined when anything else
 * is present or the digit count is odd.
 */
export function decodeLooseHex(text: string): Buffer | undefined {
  const digits = text
    .trim()
    .replace(/^0x/i, '')
    .replace(/[\s:-]+/g, '');
  if (digits.length === 0) return undefined;
  return decodeHex(digits);
}

/** True when the text, separators ignored, consists of hex digits only (an even number of them). */
export function isLooseHex(text: string): boolean {
  return decodeLooseHex(text) !== undefined;
}

/** Strict Base64 (standard or URL alphabet, padding optional, whitespace between lines ignored). */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0) return undefined;
  if (BASE64_PATTERN.test(compact)) return Buffer.from(compact, 'base64');
  if (BASE64URL_PATTERN.test(compact) && compact.length % 4 !== 1) return Buffer.from(compact, 'base64url');
  return undefined;
}

/** RFC 4648 Base32 (upper case, padding optional); used by Alfen for its data set, key and signature. */
export function decodeBase32(text: string): Buffer | undefined {
  const body = text.replace(/=+$/, '');
  if (body.length === 0 || body.length % 8 === 1 || body.length % 8 === 3 || body.length % 8 === 6) return undefined;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of body) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) return undefined;
    buffer = ((buffer << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** True when every byte is printable ASCII (0x20..0x7e) or common whitespace: the decoded bytes are text. */
export function isPrintableAscii(bytes: Uint8Array): boolean {
  return (
    bytes.length > 0 &&
    bytes.every((byte) => (byte >= 0x20 && byte <= 0x7e) || byte === 0x09 || byte === 0x0a || byte === 0x0d)
  );
}
