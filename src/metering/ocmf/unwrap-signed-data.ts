/**
 * Takes signed meter data out of its OCPP transport, down to the OCMF (or Alfen) text and the public key sent
 * with it:
 *
 * - OCPP 1.6: a sampledValue with format "SignedData" whose value is the OCMF text itself, that text hex-encoded
 *   (OCPP 1.5/1.6 describe SignedData as hex) or Base64-encoded, or — as the OCA application note "Signed Meter
 *   Values in OCPP" (2025) prescribes — a JSON SignedMeterValueType serialised into the value string (also seen
 *   with the key "signedMeterValue" instead of "signedMeterData").
 * - OCPP 2.0.1 / 2.1: sampledValue.signedMeterValue = { signedMeterData (Base64), signingMethod (empty when the data
 *   names its algorithm), encodingMethod ("OCMF"), publicKey (Base64 of "oca:base16:asn1:<hex>", or empty) }.
 *
 * The public key is returned as transported; decodePublicKey reads every form.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import { decodeBase64, decodeHex } from './binary-text.ts';
import { MAX_OCMF_TEXT_CHARS } from './limits.ts';

export type SignedDataFormat = 'OCMF' | 'ALFEN';

export type UnwrappedSignedData = {
  readonly format: SignedDataFormat;
  /** The OCMF text ("OCMF|...") or the Alfen text ("AP;..."), exactly as the meter produced it. */
  readonly text: string;
  readonly publicKey: string | undefined;
  readonly signingMethod: string | undefined;
  /** How the data travelled: as text, hex, Base64, or inside a SignedMeterValueType. */
  readonly transport: 'plain' | 'hex' | 'base64' | 'signed-meter-value';
};

export type UnwrapErrorCode =
  | 'InputTooLong'
  | 'NotSignedData'
  | 'SignedDataMissing'
  | 'EncodingUnrecognized'
  | 'EncodingMethodUnsupported'
  | 'SignedMeterValueMalformed';

export type UnwrapError = { readonly code: UnwrapErrorCode; readonly message: string };

/** The encoded value may be Base64 of the text (4/3 longer) or hex (twice as long). */
const MAX_ENCODED_CHARS = 2 * MAX_OCMF_TEXT_CHARS + 4_096;

/** An OCPP 1.6 sampledValue ({ value, format: "SignedData", ... }). */
export function unwrapOcpp16SampledValue(sampledValue: unknown): Result<UnwrappedSignedData, UnwrapError> {
  if (!isRecord(sampledValue) || typeof sampledValue.value !== 'string') {
    return failure('SignedDataMissing', 'the sampled value has no string value');
  }
  if (sampledValue.format !== 'SignedData') {
    return failure(
      'NotSignedData',
      `the sampled value's format is ${JSON.stringify(sampledValue.format ?? 'Raw')}, not SignedData`,
    );
  }
  return unwrapSignedValueText(sampledValue.value);
}

/** An OCPP 2.0.1 sampledValue carrying a signedMeterValue. */
export function unwrapOcpp201SampledValue(sampledValue: unknown): Result<UnwrappedSignedData, UnwrapError> {
  if (!isRecord(sampledValue) || sampledValue.signedMeterValue === undefined) {
    return failure('SignedDataMissing', 'the sampled value has no signedMeterValue');
  }
  return unwrapOcpp201SignedMeterValue(sampledValue.signedMeterValue);
}

/** An OCPP 2.0.1 SignedMeterValueType. */
export function unwrapOcpp201SignedMeterValue(signedMeterValue: unknown): Result<UnwrappedSignedData, UnwrapError> {
  if (!isRecord(signedMeterValue)) return failure('SignedMeterValueMalformed', 'signedMeterValue is not an object');
  const data = signedMeterValue.signedMeterData ?? signedMeterValue.signedMeterValue;
  if (typeof data !== 'string' || data.trim() === '') {
    return failure('SignedMeterValueMalformed', 'signedMeterValue has no signedMeterData string');
  }
  const expected = expectedFormat(signedMeterValue.encodingMethod);
  if (!expected.ok) return expected;
  const inner = decodeTransportText(data);
  if (!inner.ok) return inner;
  if (inner.value.kind === 'json') {
    return failure('SignedMeterValueMalformed', 'signedMeterData holds another SignedMeterValueType');
  }
  if (expected.value !== undefined && inner.value.format !== expected.value) {
    return failure(
      'EncodingMethodUnsupported',
      `encodingMethod says ${expected.value} but the data is ${inner.value.format}`,
    );
  }
  return ok({
    format: inner.value.format,
    text: inner.value.text,
    publicKey: optionalString(signedMeterValue.publicKey),
    signingMethod: optionalString(signedMeterValue.signingMethod),
    transport: 'signed-meter-value',
  });
}

/** The value string of an OCPP 1.6 SignedData sampled value, in any of the transports listed above. */
export function unwrapSignedValueText(value: string): Result<UnwrappedSignedData, UnwrapError> {
  const decoded = decodeTransportText(value);
  if (!decoded.ok) return decoded;
  if (decoded.value.kind === 'json') return unwrapOcpp201SignedMeterValue(decoded.value.json);
  const { format, text, transport } = decoded.value;
  return ok({ format, text, publicKey: undefined, signingMethod: undefined, transport });
}

type DecodedText =
  | {
      readonly kind: 'data';
      readonly format: SignedDataFormat;
      readonly text: string;
      readonly transport: 'plain' | 'hex' | 'base64';
    }
  | { readonly kind: 'json'; readonly json: unknown };

function decodeTransportText(value: string): Result<DecodedText, UnwrapError> {
  if (value.length > MAX_ENCODED_CHARS)
    return failure('InputTooLong', `the signed value is longer than ${MAX_ENCODED_CHARS} characters`);
  const trimmed = value.trim();
  const plain = classify(trimmed, 'plain');
  if (plain !== undefined) return ok(plain);
  if (trimmed.startsWith('{')) {
    try {
      return ok({ kind: 'json', json: JSON.parse(trimmed) as unknown });
    } catch {
      return failure('SignedMeterValueMalformed', 'the signed value begins with { but is not JSON');
    }
  }
  const hex = decodeHex(trimmed);
  const fromHex = hex === undefined ? undefined : classify(hex.toString('utf8'), 'hex');
  if (fromHex !== undefined) return ok(fromHex);
  const base64 = decodeBase64(trimmed);
  const fromBase64 = base64 === undefined ? undefined : base64.toString('utf8');
  const classified = fromBase64 === undefined ? undefined : classify(fromBase64.trim(), 'base64');
  if (classified !== undefined) return ok(classified);
  if (fromBase64?.trim().startsWith('{')) return decodeTransportText(fromBase64);
  return failure(
    'EncodingUnrecognized',
    'the signed value is neither OCMF nor Alfen data, as text, hex, Base64 or JSON',
  );
}

function classify(text: string, transport: 'plain' | 'hex' | 'base64'): DecodedText | undefined {
  if (text.startsWith('OCMF|')) return { kind: 'data', format: 'OCMF', text, transport };
  if (text.startsWith('AP;')) return { kind: 'data', format: 'ALFEN', text, transport };
  return undefined;
}

function expectedFormat(encodingMethod: unknown): Result<SignedDataFormat | undefined, UnwrapError> {
  if (encodingMethod === undefined || encodingMethod === null || encodingMethod === '') return ok(undefined);
  if (typeof encodingMethod !== 'string') return failure('SignedMeterValueMalformed', 'encodingMethod is not a string');
  if (encodingMethod.trim().toUpperCase() === 'OCMF') return ok('OCMF');
  if (/alfen/i.test(encodingMethod)) return ok('ALFEN');
  return failure(
    'EncodingMethodUnsupported',
    `encodingMethod '${encodingMethod}' is not supported (OCMF and Alfen are)`,
  );
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function failure(code: UnwrapErrorCode, message: string): Result<never, UnwrapError> {
  return err({ code, message });
}
