/**
 * Reads Alfen's Eichrecht format, "AP;<type>;<blobVersion>;<publicKey>;<dataset>;<signature>;", the three last
 * fields in Base32: a compressed secp192r1 public key (25 bytes), an 82-byte binary data set, and a 48-byte r||s
 * ECDSA signature over SHA-256(data set). The data set layout (little-endian numbers) is the one the SAFE
 * Transparenzsoftware reads: adapter id, firmware version and checksum, meter id, status, second index, time,
 * OBIS code, DLMS unit and scaler, value, user id, session id and paging counter.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import { decodeBase32 } from './binary-text.ts';
import { MAX_ALFEN_TEXT_CHARS } from './limits.ts';

export type AlfenRecordType = 'begin' | 'end' | 'intermediate';

export type AlfenDataset = {
  readonly adapterIdHex: string;
  readonly adapterFirmwareVersion: string;
  readonly adapterFirmwareChecksumHex: string;
  /** The meter's server id (DIN 43863-5), hex. */
  readonly meterIdHex: string;
  readonly statusHex: string;
  readonly secondIndex: number;
  /** Unix time in seconds as the adapter signed it. */
  readonly timestampS: number;
  /** OBIS code as A-B:C.D.E*F, e.g. 1-0:1.8.0*255. */
  readonly obis: string;
  /** DLMS unit code; 30 is Wh. */
  readonly unitCode: number;
  /** Power of ten applied to the raw value. */
  readonly scaler: number;
  /** Raw register value (unsigned 64-bit) as decimal text. */
  readonly rawValue: string;
  readonly uidHex: string;
  readonly sessionId: number;
  readonly paging: number;
};

export type AlfenRecord = {
  readonly text: string;
  readonly type: AlfenRecordType;
  readonly blobVersion: string;
  /** The public key the record carries, Base32 as written and decoded (compressed point). */
  readonly publicKeyText: string;
  readonly publicKeyBytes: Buffer;
  /** The signed bytes. */
  readonly datasetBytes: Buffer;
  readonly signatureBytes: Buffer;
  readonly dataset: AlfenDataset;
};

export type AlfenMalformedCode =
  | 'InputTooLong'
  | 'NotAlfen'
  | 'FieldCount'
  | 'TypeUnknown'
  | 'Base32'
  | 'DatasetLength'
  | 'PublicKeyLength'
  | 'SignatureLength';

export type AlfenMalformed = { readonly code: AlfenMalformedCode; readonly message: string };

const DATASET_BYTES = 82;
const PUBLIC_KEY_BYTES = 25;
const SIGNATURE_BYTES = 48;
const TYPES: Readonly<Record<string, AlfenRecordType>> = { '0': 'begin', '1': 'end', '2': 'intermediate' };

export function parseAlfen(text: string): Result<AlfenRecord, AlfenMalformed> {
  if (text.length > MAX_ALFEN_TEXT_CHARS) {
    return err({ code: 'InputTooLong', message: `the Alfen text is longer than ${MAX_ALFEN_TEXT_CHARS} characters` });
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('AP;')) return err({ code: 'NotAlfen', message: "the text does not begin with 'AP;'" });
  const fields = trimmed.split(';');
  if (fields.at(-1) === '') fields.pop();
  if (fields.length !== 6) {
    return err({
      code: 'FieldCount',
      message: `an Alfen record has 6 fields separated by ';', found ${fields.length}`,
    });
  }
  const [, typeCode = '', blobVersion = '', keyText = '', datasetText = '', signatureText = ''] = fields;
  const type = TYPES[typeCode];
  if (type === undefined) return err({ code: 'TypeUnknown', message: `record type '${typeCode}' is not 0, 1 or 2` });
  const publicKeyBytes = decodeBase32(keyText);
  const datasetBytes = decodeBase32(datasetText);
  const signatureBytes = decodeBase32(signatureText);
  if (publicKeyBytes === undefined || datasetBytes === undefined || signatureBytes === undefined) {
    return err({ code: 'Base32', message: 'the public key, data set or signature is not Base32' });
  }
  if (publicKeyBytes.length !== PUBLIC_KEY_BYTES) {
    return err({
      code: 'PublicKeyLength',
      message: `the public key has ${publicKeyBytes.length} bytes, not ${PUBLIC_KEY_BYTES}`,
    });
  }
  if (datasetBytes.length !== DATASET_BYTES) {
    return err({
      code: 'DatasetLength',
      message: `the data set has ${datasetBytes.length} bytes, not ${DATASET_BYTES}`,
    });
  }
  if (signatureBytes.length !== SIGNATURE_BYTES) {
    return err({
      code: 'SignatureLength',
      message: `the signature has ${signatureBytes.length} bytes, not ${SIGNATURE_BYTES}`,
    });
  }
  return ok({
    text: trimmed,
    type,
    blobVersion,
    publicKeyText: keyText,
    publicKeyBytes,
    datasetBytes,
    signatureBytes,
    dataset: readDataset(datasetBytes),
  });
}

function readDataset(bytes: Buffer): AlfenDataset {
  const obis = bytes.subarray(38, 44);
  return {
    adapterIdHex: bytes.subarray(0, 10).toString('hex'),
    adapterFirmwareVersion: bytes.subarray(10, 14).toString('latin1'),
    adapterFirmwareChecksumHex: bytes.subarray(14, 16).toString('hex'),
    meterIdHex: bytes.subarray(16, 26).toString('hex'),
    statusHex: bytes.subarray(26, 30).toString('hex'),
    secondIndex: bytes.readUInt32LE(30),
    timestampS: bytes.readUInt32LE(34),
    obis: `${obis[0]}-${obis[1]}:${obis[2]}.${obis[3]}.${obis[4]}*${obis[5]}`,
    unitCode: bytes.readUInt8(44),
    scaler: bytes.readInt8(45),
    rawValue: bytes.readBigUInt64LE(46).toString(),
    uidHex: bytes.subarray(54, 74).toString('hex'),
    sessionId: bytes.readUInt32LE(74),
    paging: bytes.readUInt32LE(78),
  };
}
