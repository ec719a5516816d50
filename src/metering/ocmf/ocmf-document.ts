/**
 * An OCMF record as parsed: the exact payload the signature covers, the header fields, the readings and the
 * signature section. Field names are the specification's two-letter keys, so that an auditor can match every
 * value to the text. Values are kept as the sender wrote them; nothing here has been verified yet.
 */
import type { OcmfSignatureAlgorithm } from './curves.ts';
import type { PlainJson } from './exact-json.ts';
import type { Warning } from './verdict-reason.ts';

/** Reading reason (TX): Begin, Charging, eXception, End, Local/Remote end, Abort, Power fail, Suspended, Tariff. */
export type OcmfTransactionType = 'B' | 'C' | 'X' | 'E' | 'L' | 'R' | 'A' | 'P' | 'S' | 'T';
export const TRANSACTION_TYPES: readonly OcmfTransactionType[] = ['B', 'C', 'X', 'E', 'L', 'R', 'A', 'P', 'S', 'T'];
/** The reasons that end a transaction: E, or one of the more precise L, R, A, P. */
export const TRANSACTION_END_TYPES: ReadonlySet<OcmfTransactionType> = new Set(['E', 'L', 'R', 'A', 'P']);

/** Meter state (ST, OCMF table 10); only G means the meter worked correctly. */
export type OcmfMeterStatus = 'N' | 'G' | 'T' | 'D' | 'R' | 'M' | 'X' | 'I' | 'O' | 'S' | 'E' | 'F';
export const METER_STATUSES: readonly OcmfMeterStatus[] = ['N', 'G', 'T', 'D', 'R', 'M', 'X', 'I', 'O', 'S', 'E', 'F'];

/** Time synchronisation state (OCMF table 19): Unknown/unsynchronised, Informative, Synchronised, Relative. */
export type OcmfTimeStatus = 'U' | 'I' | 'S' | 'R';

export type OcmfTime = {
  /** As written, e.g. "2018-07-24T13:22:04,000+0200 S". */
  readonly text: string;
  /** The instant in milliseconds since the Unix epoch (UTC). */
  readonly epochMs: number;
  /** ISO 8601 with the meter's own offset, e.g. "2018-07-24T13:22:04.000+02:00". */
  readonly iso: string;
  /** Undefined when the meter wrote no status letter (a tolerated departure, see warnings). */
  readonly status: OcmfTimeStatus | undefined;
};

export type OcmfReading = {
  /** Position in RD, from 0. */
  readonly index: number;
  readonly TM: OcmfTime | undefined;
  readonly TX: OcmfTransactionType | undefined;
  /** Reading value as exact decimal text, e.g. "2935.600"; padding spaces of a string RV are trimmed. */
  readonly RV: string | undefined;
  readonly RI: string | undefined;
  readonly RU: string | undefined;
  readonly RT: string | undefined;
  /** Cumulated loss (cable loss compensation), exact decimal text in the unit RU. */
  readonly CL: string | undefined;
  readonly EF: string | undefined;
  readonly ST: OcmfMeterStatus | undefined;
  /**
   * Fields this reading took from the previous one. OCMF omits fields whose value equals the previous reading's
   * (within one record), so a reading without TX continues the previous reason; RV is never inherited.
   */
  readonly inherited: readonly string[];
  /** Vendor fields (e.g. XV, XI) and fields OCMF does not define (e.g. EI), numbers as literal text. */
  readonly extensions: Readonly<Record<string, PlainJson>>;
};

export type OcmfLossCompensation = {
  readonly LN: string | undefined;
  readonly LI: string | undefined;
  readonly LR: string | undefined;
  readonly LU: string | undefined;
};

export type OcmfHeader = {
  readonly FV: string | undefined;
  readonly GI: string | undefined;
  readonly GS: string | undefined;
  readonly GV: string | undefined;
  readonly PG: string | undefined;
  readonly MV: string | undefined;
  readonly MM: string | undefined;
  readonly MS: string | undefined;
  readonly MF: string | undefined;
  /** Identification status: a boolean since OCMF 1.0, a status word such as "VERIFIED" in the 0.x formats. */
  readonly IS: boolean | string | undefined;
  readonly IL: string | undefined;
  readonly IF: readonly string[] | undefined;
  readonly IT: string | undefined;
  readonly ID: string | undefined;
  readonly TT: string | undefined;
  readonly CF: string | undefined;
  readonly LC: OcmfLossCompensation | undefined;
  readonly CT: string | undefined;
  readonly CI: string | undefined;
  /** Vendor identification and version of the 0.x formats. */
  readonly VI: string | undefined;
  readonly VV: string | undefined;
  readonly extensions: Readonly<Record<string, PlainJson>>;
};

/** DER (the default SM), DER with fixed-width integers (an eBZ meter), or raw r||s (Isabellenhuette). */
export type OcmfSignatureEncoding = 'der' | 'der-non-canonical' | 'ieee-p1363';

export type OcmfSignature = {
  /** SA as written; undefined when absent. */
  readonly SA: string | undefined;
  /** The algorithm SA names, or the default (ECDSA-secp256r1-SHA256) when SA is absent. */
  readonly algorithm: OcmfSignatureAlgorithm;
  readonly SE: 'hex' | 'base64';
  readonly SM: string | undefined;
  readonly SD: string;
  /** The decoded signature: DER (the default SM application/x-der) or raw r||s as some meters send it. */
  readonly bytes: Uint8Array;
  readonly encoding: OcmfSignatureEncoding;
  readonly extensions: Readonly<Record<string, PlainJson>>;
};

export type OcmfDocument = {
  /** The OCMF text as given, without surrounding whitespace. */
  readonly text: string;
  /** The payload section exactly as transmitted, between the first and the second '|': what is signed. */
  readonly payloadText: string;
  /** The UTF-8 bytes of the payload section, the exact input of the signature. */
  readonly payloadBytes: Uint8Array;
  readonly signatureText: string;
  readonly header: OcmfHeader;
  readonly readings: readonly OcmfReading[];
  readonly signature: OcmfSignature;
  /** Tolerated departures from the specification (a number where a string belongs, a legacy version, ...). */
  readonly deviations: readonly Warning[];
};

export type OcmfMalformedCode =
  | 'InputTooLong'
  | 'NotOcmf'
  | 'SectionCount'
  | 'PayloadJson'
  | 'SignatureJson'
  | 'FieldType'
  | 'FieldValue'
  | 'ReadingsMissing'
  | 'TooManyReadings'
  | 'ReadingValueMalformed'
  | 'TimeMalformed'
  | 'SignatureDataMissing'
  | 'SignatureAlgorithmUnsupported'
  | 'SignatureEncodingUnsupported'
  | 'SignatureMimeTypeUnsupported'
  | 'SignatureUndecodable';

/** Why a text is not a readable OCMF record; `path` points into the JSON, e.g. "payload.RD[1].RV". */
export type OcmfMalformed = { readonly code: OcmfMalformedCode; readonly message: string; readonly path?: string };
