/**
 * Reads the RD array of an OCMF payload. Within one record, OCMF omits a field whose value equals the previous
 * reading's ("only in the first sub-object RI is defined ... and is thus valid for all further readings"), so each
 * reading here is complete: absent fields are taken from the previous reading and listed in `inherited`. The
 * reading value RV is never inherited: a reading without RV reports an event, not a value.
 */
import { parseExactDecimal } from './exact-decimal.ts';
import type { JsonNode } from './exact-json.ts';
import { MAX_READINGS_PER_RECORD } from './limits.ts';
import {
  METER_STATUSES,
  type OcmfMeterStatus,
  type OcmfReading,
  type OcmfTime,
  type OcmfTransactionType,
  TRANSACTION_TYPES,
} from './ocmf-document.ts';
import { describe, FieldReader, OcmfParseFailure } from './ocmf-field-reader.ts';
import { parseOcmfTime } from './parse-ocmf-time.ts';
import type { Warning } from './verdict-reason.ts';

const VENDOR_FIELD = /^[U-Z]/;
const INHERITED_FIELDS = ['TM', 'TX', 'RI', 'RU', 'RT', 'EF', 'ST'] as const;
type InheritedField = (typeof INHERITED_FIELDS)[number];

/** Units OCMF table 20 defines; others (e.g. "sec" for a duration register) are kept and reported. */
const KNOWN_UNITS = new Set(['kWh', 'Wh', 'mOhm', 'uOhm']);

export function parseReadings(node: JsonNode | undefined, path: string, deviations: Warning[]): OcmfReading[] {
  if (node === undefined) throw new OcmfParseFailure('ReadingsMissing', `${path} (the readings) is missing`, path);
  if (node.kind !== 'array') {
    throw new OcmfParseFailure('FieldType', `${path}: expected an array of readings, found ${describe(node)}`, path);
  }
  if (node.items.length === 0) throw new OcmfParseFailure('ReadingsMissing', `${path} has no readings`, path);
  if (node.items.length > MAX_READINGS_PER_RECORD) {
    throw new OcmfParseFailure('TooManyReadings', `${path} has more than ${MAX_READINGS_PER_RECORD} readings`, path);
  }
  const readings: OcmfReading[] = [];
  node.items.forEach((item, index) => {
    const itemPath = `${path}[${index}]`;
    if (item.kind !== 'object') {
      throw new OcmfParseFailure(
        'FieldType',
        `${itemPath}: expected a reading object, found ${describe(item)}`,
        itemPath,
      );
    }
    readings.push(parseReading(new FieldReader(item, itemPath, deviations), index, readings[index - 1]));
  });
  return readings;
}

function parseReading(fields: FieldReader, index: number, previous: OcmfReading | undefined): OcmfReading {
  const own = {
    TM: readTime(fields),
    TX: readEnum(fields, 'TX', TRANSACTION_TYPES) as OcmfTransactionType | undefined,
    RI: fields.string('RI'),
    RU: fields.string('RU'),
    RT: fields.string('RT'),
    EF: fields.string('EF'),
    ST: readEnum(fields, 'ST', METER_STATUSES) as OcmfMeterStatus | undefined,
  };
  const inherited: InheritedField[] = [];
  const complete: { -readonly [K in InheritedField]: (typeof own)[K] } = { ...own };
  for (const field of INHERITED_FIELDS) {
    if (own[field] === undefined && previous?.[field] !== undefined) {
      (complete as Record<InheritedField, unknown>)[field] = previous[field];
      inherited.push(field);
    }
  }
  if (own.RU !== undefined && !KNOWN_UNITS.has(own.RU)) {
    fields.deviate('UnitUnknown', `${fields.at('RU')} '${own.RU}' is not an OCMF unit (kWh, Wh, mOhm, uOhm)`);
  }
  return {
    index,
    ...complete,
    RV: readDecimal(fields, 'RV'),
    CL: readDecimal(fields, 'CL'),
    inherited,
    extensions: fields.extensions(VENDOR_FIELD),
  };
}

function readTime(fields: FieldReader): OcmfTime | undefined {
  const text = fields.string('TM');
  if (text === undefined) return undefined;
  const parsed = parseOcmfTime(text);
  if (!parsed.ok) return fields.fail('TimeMalformed', 'TM', parsed.error);
  for (const deviation of parsed.value.deviations)
    fields.deviate(deviation.code, `${fields.at('TM')}: ${deviation.message}`);
  return parsed.value.time;
}

function readEnum(fields: FieldReader, key: string, allowed: readonly string[]): string | undefined {
  const value = fields.string(key);
  if (value !== undefined && !allowed.includes(value)) {
    fields.fail('FieldValue', key, `'${value}' is not one of ${allowed.join(', ')}`);
  }
  return value;
}

/**
 * RV and CL are JSON numbers whose literal is the exact value. Meters that quote them ("RV":"       9.038") are
 * read the same way once the padding is trimmed; the quoting is reported.
 */
function readDecimal(fields: FieldReader, key: 'RV' | 'CL'): string | undefined {
  const node = fields.take(key);
  if (node === undefined) return undefined;
  let text: string;
  if (node.kind === 'number') {
    text = node.literal;
  } else if (node.kind === 'string') {
    text = node.value.trim();
    fields.deviate(
      key === 'RV' ? 'ReadingValueAsString' : 'NumberAsString',
      `${fields.at(key)} is the string ${JSON.stringify(node.value)} where OCMF specifies a number`,
    );
  } else {
    return fields.fail('FieldType', key, `expected a number, found ${describe(node)}`);
  }
  if (parseExactDecimal(text) === undefined) {
    return fields.fail('ReadingValueMalformed', key, `'${text}' is not a decimal number`);
  }
  return text;
}
