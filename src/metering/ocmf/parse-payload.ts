/**
 * Reads the payload section's JSON object into the OCMF header fields (tables 1 to 6 of the specification) and
 * the readings. Top-level names beginning with U..Z are vendor extensions; any other unknown name is kept and
 * reported. Format versions before 1.0 (0.1 to 0.5, with their VI/VV fields and a word as IS) are read too.
 */
import type { JsonNode } from './exact-json.ts';
import type { OcmfHeader, OcmfLossCompensation, OcmfReading } from './ocmf-document.ts';
import { describe, FieldReader, type JsonObjectNode, OcmfParseFailure } from './ocmf-field-reader.ts';
import { parseReadings } from './parse-readings.ts';
import type { Warning } from './verdict-reason.ts';

const VENDOR_FIELD = /^[U-Z]/;
const KNOWN_FORMAT_VERSIONS = new Set(['0.1', '0.2', '0.3', '0.4', '0.5', '1.0', '1.1', '1.2', '1.3', '1.4']);

export type ParsedPayload = { readonly header: OcmfHeader; readonly readings: OcmfReading[] };

export function parsePayload(node: JsonNode, deviations: Warning[]): ParsedPayload {
  if (node.kind !== 'object') {
    throw new OcmfParseFailure('FieldType', `payload: expected a JSON object, found ${describe(node)}`, 'payload');
  }
  const fields = new FieldReader(node, 'payload', deviations);
  const FV = fields.string('FV');
  checkFormatVersion(fields, FV);
  const header: Omit<OcmfHeader, 'extensions'> = {
    FV,
    GI: fields.string('GI'),
    GS: fields.string('GS'),
    GV: fields.string('GV'),
    PG: fields.string('PG'),
    MV: fields.string('MV'),
    MM: fields.string('MM'),
    MS: fields.string('MS'),
    MF: fields.string('MF'),
    IS: readIdentificationStatus(fields, FV),
    IL: fields.string('IL'),
    IF: readIdentificationFlags(fields),
    IT: fields.string('IT'),
    ID: fields.string('ID'),
    TT: fields.string('TT'),
    CF: fields.string('CF'),
    LC: readLossCompensation(fields, deviations),
    CT: fields.string('CT'),
    CI: fields.string('CI'),
    VI: fields.string('VI'),
    VV: fields.string('VV'),
  };
  const readings = parseReadings(fields.take('RD'), fields.at('RD'), deviations);
  return { header: { ...header, extensions: fields.extensions(VENDOR_FIELD) }, readings };
}

function isLegacyVersion(FV: string | undefined): boolean {
  return FV?.startsWith('0.') === true;
}

function checkFormatVersion(fields: FieldReader, FV: string | undefined): void {
  if (FV === undefined) return;
  if (isLegacyVersion(FV) && KNOWN_FORMAT_VERSIONS.has(FV)) {
    fields.deviate('LegacyFormatVersion', `format version ${FV} predates OCMF 1.0; read with the 1.0 field meanings`);
  } else if (!KNOWN_FORMAT_VERSIONS.has(FV)) {
    fields.deviate('FormatVersionUnknown', `format version '${FV}' is not one this verifier knows (0.1 to 1.4)`);
  }
}

function readIdentificationStatus(fields: FieldReader, FV: string | undefined): boolean | string | undefined {
  const node = fields.take('IS');
  if (node === undefined) return undefined;
  if (node.kind === 'boolean') return node.value;
  if (node.kind === 'string') {
    if (!isLegacyVersion(FV)) {
      fields.deviate(
        'IdentificationStatusAsString',
        `payload.IS is the word '${node.value}' where OCMF 1.x has a boolean`,
      );
    }
    return node.value;
  }
  return fields.fail('FieldType', 'IS', `expected a boolean, found ${describe(node)}`);
}

function readIdentificationFlags(fields: FieldReader): readonly string[] | undefined {
  const node = fields.take('IF');
  if (node === undefined) return undefined;
  if (node.kind === 'string') {
    fields.deviate('IdentificationFlagsNotArray', 'payload.IF is a single string where OCMF specifies an array');
    return [node.value];
  }
  if (node.kind !== 'array')
    return fields.fail('FieldType', 'IF', `expected an array of strings, found ${describe(node)}`);
  return node.items.map((item, index) =>
    item.kind === 'string'
      ? item.value
      : fields.fail('FieldType', `IF[${index}]`, `expected a string, found ${describe(item)}`),
  );
}

function readLossCompensation(fields: FieldReader, deviations: Warning[]): OcmfLossCompensation | undefined {
  const node = fields.take('LC');
  if (node === undefined) return undefined;
  if (node.kind !== 'object') return fields.fail('FieldType', 'LC', `expected an object, found ${describe(node)}`);
  const lc = new FieldReader(node as JsonObjectNode, fields.at('LC'), deviations);
  const value = { LN: lc.string('LN'), LI: lc.numberText('LI'), LR: lc.numberText('LR'), LU: lc.string('LU') };
  lc.extensions(VENDOR_FIELD);
  return value;
}
