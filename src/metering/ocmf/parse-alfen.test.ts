import { describe, expect, it } from 'vitest';
import { conformanceJson } from './ocmf-test-kit.test-support.ts';
import { parseAlfen } from './parse-alfen.ts';

const [first] = conformanceJson<{ cases: { alfenString: string }[] }>(
  'safe-ev-transparenzsoftware/alfen-samples.json',
).cases;
const VALID = first!.alfenString;
const fields = VALID.split(';');
const withField = (index: number, value: string) => fields.map((field, at) => (at === index ? value : field)).join(';');

describe('parseAlfen', () => {
  it('reads the fields and the 82-byte data set', () => {
    const record = parseAlfen(VALID);
    expect(
      record.ok && { type: record.value.type, blobVersion: record.value.blobVersion, dataset: record.value.dataset },
    ).toEqual({
      type: 'begin',
      blobVersion: '3',
      dataset: {
        adapterIdHex: '0a546573744465760011',
        adapterFirmwareVersion: 'v013',
        adapterFirmwareChecksumHex: '2da6',
        meterIdHex: '0a01445a470033000140',
        statusHex: '00000000',
        secondIndex: 2523271,
        timestampS: 1542984061,
        obis: '1-0:1.8.0*255',
        unitCode: 30,
        scaler: 0,
        rawValue: '15762',
        uidHex: '3100000000000000000000000000000000000000',
        sessionId: 18,
        paging: 17,
      },
    });
  });

  it.each([
    ['another format', 'OCMF|{}|{}', 'NotAlfen'],
    ['a missing field', fields.slice(0, 5).join(';'), 'FieldCount'],
    ['an unknown type', withField(1, '7'), 'TypeUnknown'],
    ['a key that is not Base32', withField(3, 'abc!'), 'Base32'],
    ['a short key', withField(3, 'AMVBBEIO'), 'PublicKeyLength'],
    ['a short data set', withField(4, 'BJKGK43U'), 'DatasetLength'],
    ['a short signature', withField(5, 'IGRCBV3T'), 'SignatureLength'],
    ['an overlong text', `AP;${'A'.repeat(3000)}`, 'InputTooLong'],
  ])('rejects %s', (_, text, code) => {
    const result = parseAlfen(text);
    expect(result.ok ? 'parsed' : result.error.code).toBe(code);
  });
});
