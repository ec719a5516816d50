/**
 * Finds the signed meter values in whatever a user hands the verify-meter command: an OCMF or Alfen text (also
 * hex- or Base64-encoded, or an OCPP SignedMeterValueType JSON), a Transparenzsoftware XML export, or OCPP JSON (a
 * sampledValue, a meterValue, a whole MeterValues / StopTransaction / TransactionEvent message, or a list of them).
 * Each value found becomes an item; an item that cannot be decoded carries its error instead of data.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import { decodeBase64, decodeHex } from './binary-text.ts';
import { MAX_INPUT_TEXT_CHARS, MAX_SIGNED_VALUES_PER_INPUT } from './limits.ts';
import { readTransparencyXml } from './read-transparency-xml.ts';
import {
  type UnwrapError,
  type UnwrappedSignedData,
  unwrapOcpp16SampledValue,
  unwrapOcpp201SampledValue,
  unwrapOcpp201SignedMeterValue,
  unwrapSignedValueText,
} from './unwrap-signed-data.ts';

export type SignedInputKind = 'text' | 'transparency-xml' | 'ocpp-json';

export type SignedInputData = UnwrappedSignedData & {
  /** The key encoding the container declares (XML encoding attribute), when it declares one. */
  readonly publicKeyEncoding?: 'hex' | 'base64';
};

export type SignedInputItem = {
  /** Names the item for people: "value 2 (transactionId 15001, Transaction.End)". */
  readonly label: string;
  /** Records the container says belong together (an XML transactionId); undefined when it says nothing. */
  readonly group: string | undefined;
  readonly data: Result<SignedInputData, UnwrapError>;
};

export type SignedInput = { readonly kind: SignedInputKind; readonly items: readonly SignedInputItem[] };

export type SignedInputErrorCode =
  | 'InputTooLong'
  | 'InputEmpty'
  | 'XmlUnreadable'
  | 'JsonUnreadable'
  | 'NoSignedData'
  | 'TooManyValues';
export type SignedInputError = { readonly code: SignedInputErrorCode; readonly message: string };

/** How deep the search for sampled values descends into OCPP JSON. */
const MAX_OCPP_JSON_DEPTH = 16;

export function readSignedInput(input: string): Result<SignedInput, SignedInputError> {
  if (input.length > MAX_INPUT_TEXT_CHARS) {
    return err({ code: 'InputTooLong', message: `the input is longer than ${MAX_INPUT_TEXT_CHARS} characters` });
  }
  const text = input.replace(/^\uFEFF/, '').trim();
  if (text === '') return err({ code: 'InputEmpty', message: 'the input is empty' });
  if (text.startsWith('<')) return readXml(text);
  if (text.startsWith('[') || (text.startsWith('{') && !isSignedMeterValueJson(text))) return readOcppJson(text);
  return ok({ kind: 'text', items: [{ label: 'input', group: undefined, data: unwrapSignedValueText(text) }] });
}

/** A bare SignedMeterValueType (as an OCPP 1.6 value carries it) is read as one signed value, not searched. */
function isSignedMeterValueJson(text: string): boolean {
  return /^\{\s*"(signedMeterData|signedMeterValue)"\s*:\s*"/.test(text);
}

function readXml(text: string): Result<SignedInput, SignedInputError> {
  const values = readTransparencyXml(text);
  if (!values.ok) {
    const code = values.error.code === 'TooManyValues' ? 'TooManyValues' : 'XmlUnreadable';
    return err({ code, message: `XML: ${values.error.message}` });
  }
  const items = values.value.map((value): SignedInputItem => {
    const transactionId = value.attributes.transactionId;
    const details = [transactionId && `transactionId ${transactionId}`, value.attributes.context]
      .filter(Boolean)
      .join(', ');
    const label = `value ${value.index + 1}${details === '' ? '' : ` (${details})`}`;
    if (value.signedData === undefined) {
      return {
        label,
        group: transactionId,
        data: err({ code: 'SignedDataMissing', message: 'the <value> has no <signedData>' }),
      };
    }
    const format = value.signedData.attributes.format;
    if (format !== undefined && format.toUpperCase() !== 'OCMF' && !/alfen/i.test(format)) {
      return {
        label,
        group: transactionId,
        data: err({
          code: 'EncodingMethodUnsupported',
          message: `format '${format}' is not supported (OCMF and Alfen are)`,
        }),
      };
    }
    const unwrapped = decodeXmlSignedData(value.signedData.text, value.signedData.attributes.encoding);
    const keyEncoding = value.publicKey?.attributes.encoding;
    const data: Result<SignedInputData, UnwrapError> = unwrapped.ok
      ? ok({
          ...unwrapped.value,
          publicKey: value.publicKey?.text.trim() || unwrapped.value.publicKey,
          publicKeyEncoding: keyEncoding === 'hex' || keyEncoding === 'base64' ? keyEncoding : undefined,
        })
      : unwrapped;
    return { label, group: transactionId, data };
  });
  return ok({ kind: 'transparency-xml', items });
}

function decodeXmlSignedData(text: string, encoding: string | undefined): Result<UnwrappedSignedData, UnwrapError> {
  if (encoding === 'hex' || encoding === 'base64') {
    const bytes = encoding === 'hex' ? decodeHex(text.trim()) : decodeBase64(text);
    if (bytes === undefined)
      return err({ code: 'EncodingUnrecognized', message: `the signed data is not ${encoding}` });
    return unwrapSignedValueText(bytes.toString('utf8'));
  }
  return unwrapSignedValueText(text);
}

function readOcppJson(text: string): Result<SignedInput, SignedInputError> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return err({ code: 'JsonUnreadable', message: `JSON: ${(error as Error).message}` });
  }
  const items: SignedInputItem[] = [];
  const visit = (node: unknown, path: string, depth: number): void => {
    if (depth > MAX_OCPP_JSON_DEPTH || items.length > MAX_SIGNED_VALUES_PER_INPUT) return;
    if (Array.isArray(node)) {
      for (const [index, child] of node.entries()) visit(child, `${path}[${index}]`, depth + 1);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const context = typeof record.context === 'string' ? ` (${record.context})` : '';
    if (typeof record.signedMeterValue === 'object' && record.signedMeterValue !== null) {
      items.push({ label: `${path}${context}`, group: undefined, data: unwrapOcpp201SampledValue(record) });
    } else if (typeof record.signedMeterData === 'string') {
      items.push({ label: path, group: undefined, data: unwrapOcpp201SignedMeterValue(record) });
    } else if (record.format === 'SignedData' && typeof record.value === 'string') {
      items.push({ label: `${path}${context}`, group: undefined, data: unwrapOcpp16SampledValue(record) });
    } else {
      for (const [key, child] of Object.entries(record)) visit(child, `${path}.${key}`, depth + 1);
    }
  };
  visit(json, '$', 0);
  if (items.length > MAX_SIGNED_VALUES_PER_INPUT) {
    return err({ code: 'TooManyValues', message: `more than ${MAX_SIGNED_VALUES_PER_INPUT} signed values` });
  }
  if (items.length === 0) {
    return err({
      code: 'NoSignedData',
      message: 'the JSON contains no SignedData sampled value and no signedMeterValue',
    });
  }
  return ok({ kind: 'ocpp-json', items });
}
