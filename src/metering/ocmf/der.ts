/**
 * The little DER this module needs: reading an ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) strictly, and
 * writing a SubjectPublicKeyInfo for a bare elliptic-curve point so that OpenSSL can load it.
 */
import { CURVES, type OcmfCurve } from './curves.ts';

/** ecPublicKey, 1.2.840.10045.2.1, with tag and length. */
const EC_PUBLIC_KEY_OID_DER = Buffer.from('06072a8648ce3d0201', 'hex');

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}

function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SubjectPublicKeyInfo DER for an uncompressed point (04 || X || Y) on an OCMF curve. */
export function spkiForUncompressedPoint(curve: OcmfCurve, point: Uint8Array): Buffer {
  const algorithm = tlv(0x30, Buffer.concat([EC_PUBLIC_KEY_OID_DER, CURVES[curve].oidDer]));
  const bitString = tlv(0x03, Buffer.concat([Buffer.from([0x00]), point]));
  return tlv(0x30, Buffer.concat([algorithm, bitString]));
}

type Cursor = { readonly bytes: Uint8Array; offset: number };

function readLength(cursor: Cursor): number | undefined {
  const first = cursor.bytes[cursor.offset++];
  if (first === undefined) return undefined;
  if (first < 0x80) return first;
  // Only the one-byte long form can occur in an ECDSA signature; DER forbids it for lengths below 128.
  if (first !== 0x81) return undefined;
  const length = cursor.bytes[cursor.offset++];
  return length === undefined || length < 0x80 ? undefined : length;
}

type DerInteger = { readonly value: Uint8Array; readonly canonical: boolean };

function readUnsignedInteger(cursor: Cursor): DerInteger | undefined {
  if (cursor.bytes[cursor.offset++] !== 0x02) return undefined;
  const length = readLength(cursor);
  if (length === undefined || length === 0 || cursor.offset + length > cursor.bytes.length) return undefined;
  const value = cursor.bytes.subarray(cursor.offset, cursor.offset + length);
  cursor.offset += length;
  let start = 0;
  while (start < value.length - 1 && value[start] === 0x00) start++;
  const magnitude = value.subarray(start);
  // DER writes r and s as minimal positive two's-complement integers: a zero byte only (and exactly) where the
  // next byte has its top bit set. Meters that write fixed-width integers break that rule in either direction.
  const topBitSet = (magnitude[0] ?? 0) >= 0x80;
  const canonical = topBitSet ? start === 1 : start === 0;
  return { value: magnitude[0] === 0x00 ? magnitude.subarray(1) : magnitude, canonical };
}

export type EcdsaSignatureValues = {
  /** r and s, big-endian, without leading zero bytes. */
  readonly r: Uint8Array;
  readonly s: Uint8Array;
  /**
   * False when r or s is not a canonical DER integer (a redundant zero byte, or a missing sign byte so that DER
   * would read it as negative). Such signatures come from meters that write fixed-width integers; their values
   * are read as unsigned magnitudes.
   */
  readonly canonical: boolean;
};

/**
 * Reads an ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) and returns r and s, or undefined when the bytes
 * are not exactly one such structure. Integers that are not canonical DER are read as unsigned magnitudes and
 * flagged, because some meters write r and s with a fixed width; every other departure from DER is rejected.
 * Reading them so cannot make a forgery pass: only the key holder can produce integers that verify.
 */
export function parseDerEcdsaSignature(bytes: Uint8Array): EcdsaSignatureValues | undefined {
  const cursor: Cursor = { bytes, offset: 0 };
  if (bytes[cursor.offset++] !== 0x30) return undefined;
  const length = readLength(cursor);
  if (length === undefined || cursor.offset + length !== bytes.length) return undefined;
  const r = readUnsignedInteger(cursor);
  const s = readUnsignedInteger(cursor);
  if (r === undefined || s === undefined || cursor.offset !== bytes.length) return undefined;
  return { r: r.value, s: s.value, canonical: r.canonical && s.canonical };
}

/** r||s with each value left-padded to the curve's coordinate size; undefined when a value is too long. */
export function toRawSignature(values: EcdsaSignatureValues, coordinateBytes: number): Buffer | undefined {
  if (values.r.length > coordinateBytes || values.s.length > coordinateBytes) return undefined;
  const raw = Buffer.alloc(2 * coordinateBytes);
  raw.set(values.r, coordinateBytes - values.r.length);
  raw.set(values.s, 2 * coordinateBytes - values.s.length);
  return raw;
}
