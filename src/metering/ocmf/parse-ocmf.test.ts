import { describe, expect, it } from 'vitest';
import { BEGIN_READING, payloadWith, signedOcmf } from './ocmf-test-kit.test-support.ts';
import { parseOcmf } from './parse-ocmf.ts';

function parsed(text: string) {
  const result = parseOcmf(text);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function failure(text: string) {
  const result = parseOcmf(text);
  return result.ok ? 'parsed' : result.error;
}

const SIGNATURE = '{"SD":"3006020101020101"}';

describe('parseOcmf: sections and exact bytes', () => {
  it('keeps the payload section byte for byte, whitespace and all, as the bytes the signature covers', () => {
    const payload =
      '{"FV" : "1.0",\r\n "PG":"T1","MS":"M","RD":[{"TM":"2021-10-26T10:20:52,000+0200 I","TX":"B","RV":2935.600,"RU":"kWh","ST":"G"}] }';
    const doc = parsed(`\uFEFF  OCMF|${payload}|${SIGNATURE}\n`);
    expect(doc.payloadText).toBe(payload);
    expect(Buffer.from(doc.payloadBytes).toString('utf8')).toBe(payload);
    expect(doc.signatureText).toBe(SIGNATURE);
    expect(doc.text).toBe(`OCMF|${payload}|${SIGNATURE}`);
    expect(doc.readings[0]?.RV).toBe('2935.600');
  });

  it('reads every header field of the specification', () => {
    const doc = parsed(
      `OCMF|${payloadWith({ TT: 'Tarif 1', CF: '2.1', CT: 'EVSEID', CI: 'DE*VBL*E1', LC: { LN: 'cable', LI: 1, LR: 2.5, LU: 'mOhm' } }, [BEGIN_READING])}|${SIGNATURE}`,
    );
    expect(doc.header).toEqual({
      FV: '1.0',
      GI: 'VOLTBILL TEST',
      GS: 'GW-1',
      GV: '1.0',
      PG: 'T1',
      MV: 'Meters Inc',
      MM: 'M1',
      MS: 'METER-1',
      MF: '1.0',
      IS: true,
      IL: 'VERIFIED',
      IF: ['RFID_PLAIN'],
      IT: 'ISO14443',
      ID: '04A1B2C3D4E5F6',
      TT: 'Tarif 1',
      CF: '2.1',
      LC: { LN: 'cable', LI: '1', LR: '2.5', LU: 'mOhm' },
      CT: 'EVSEID',
      CI: 'DE*VBL*E1',
      VI: undefined,
      VV: undefined,
      extensions: {},
    });
    expect(doc.deviations).toEqual([
      { code: 'AlgorithmDefault', message: 'no SA: the default algorithm ECDSA-secp256r1-SHA256 applies' },
    ]);
  });

  it('reads a reading completely, RV and CL as exact decimal text', () => {
    const doc = parsed(
      `OCMF|${payloadWith({}, [BEGIN_READING, '{"TM":"2025-03-11T19:45:00,000+0100 S","TX":"E","RV":1256.789,"CL":0.50,"ST":"G"}'])}|${SIGNATURE}`,
    );
    expect(doc.readings[1]).toEqual({
      index: 1,
      TM: {
        text: '2025-03-11T19:45:00,000+0100 S',
        epochMs: Date.parse('2025-03-11T18:45:00Z'),
        iso: '2025-03-11T19:45:00.000+01:00',
        status: 'S',
      },
      TX: 'E',
      RV: '1256.789',
      RI: '1-b:1.8.0',
      RU: 'kWh',
      RT: 'AC',
      CL: '0.50',
      EF: '',
      ST: 'G',
      inherited: ['RI', 'RU', 'RT', 'EF'],
      extensions: {},
    });
  });

  it('completes readings from the previous one, as OCMF omits repeated fields (RV is never inherited)', () => {
    const doc = parsed(
      `OCMF|${payloadWith({}, [BEGIN_READING, '{"RV":4.405,"RI":"1-0:2.8.0"}', '{"TX":"E","ST":"G"}'])}|${SIGNATURE}`,
    );
    expect(
      doc.readings.map((reading) => [
        reading.TX,
        reading.RI,
        reading.RU,
        reading.RV,
        reading.TM?.text,
        reading.inherited,
      ]),
    ).toEqual([
      ['B', '1-b:1.8.0', 'kWh', '1234.560', '2025-03-11T17:30:00,000+0100 S', []],
      ['B', '1-0:2.8.0', 'kWh', '4.405', '2025-03-11T17:30:00,000+0100 S', ['TM', 'TX', 'RU', 'RT', 'EF', 'ST']],
      ['E', '1-0:2.8.0', 'kWh', undefined, '2025-03-11T17:30:00,000+0100 S', ['TM', 'RI', 'RU', 'RT', 'EF']],
    ]);
  });
});

describe('parseOcmf: real-world departures are read and reported', () => {
  it('takes the default algorithm when SA is absent, and reads the brainpoolP spelling', () => {
    const noSa = parsed(signedOcmf(payloadWith({}, [BEGIN_READING]), 'secp256r1', { sa: null }));
    expect([noSa.signature.SA, noSa.signature.algorithm.id, noSa.deviations.map((d) => d.code)]).toEqual([
      undefined,
      'ECDSA-secp256r1-SHA256',
      ['AlgorithmDefault'],
    ]);
    const spelled = parsed(
      signedOcmf(payloadWith({}, [BEGIN_READING]), 'brainpool256r1', { sa: 'ECDSA-brainpoolP256r1-SHA256' }),
    );
    expect([spelled.signature.algorithm.id, spelled.deviations.map((d) => d.code)]).toEqual([
      'ECDSA-brainpool256r1-SHA256',
      ['AlgorithmSpelling'],
    ]);
  });

  it('recognises DER, raw r||s and Base64 signatures', () => {
    const payload = payloadWith({}, [BEGIN_READING]);
    expect(parsed(signedOcmf(payload, 'secp384r1')).signature).toMatchObject({ SE: 'hex', encoding: 'der' });
    const raw = parsed(signedOcmf(payload, 'secp384r1', { raw: true }));
    expect([raw.signature.encoding, raw.signature.bytes.length, raw.deviations.map((d) => d.code)]).toEqual([
      'ieee-p1363',
      96,
      ['RawSignature'],
    ]);
    expect(parsed(signedOcmf(payload, 'secp192k1', { base64: true })).signature).toMatchObject({
      SE: 'base64',
      encoding: 'der',
    });
  });

  it('reads a quoted, padded RV as its decimal and numbers where strings belong as their literal', () => {
    const doc = parsed(
      `OCMF|{"FV": 1.0, "PG": "T2", "MS": "33019230", "CT": 0, "UCPN": "101", "RD": [{"TM": "2021-04-09T09:09:51,000+0200 I", "TX": "B", "RV": "       9.038", "RU": "kWh", "ST": "G"}]}|${SIGNATURE}`,
    );
    expect([doc.header.FV, doc.header.CT, doc.readings[0]?.RV, doc.header.extensions]).toEqual([
      '1.0',
      '0',
      '9.038',
      { UCPN: '101' },
    ]);
    expect(doc.deviations.map((d) => d.code)).toEqual([
      'NumberAsString',
      'NumberAsString',
      'ReadingValueAsString',
      'AlgorithmDefault',
    ]);
  });

  it('reads the legacy 0.1 format (VI, VV, IS as a word) and unknown fields, and reports them', () => {
    const doc = parsed(
      `OCMF|{"FV":"0.1","VI":"ABL","VV":"1.4p3","PG":"T12345","MS":"BQ27400330016","IS":"VERIFIED","IF":"RFID_PLAIN","NEW":1,"RD":[{"TM":"2018-07-24T13:22:04,000+0200 S","TX":"B","RV":2935.6,"RU":"kWh","EI":567,"XV":1,"ST":"G","MF":null}]}|${SIGNATURE}`,
    );
    expect([
      doc.header.VI,
      doc.header.VV,
      doc.header.IS,
      doc.header.IF,
      doc.header.extensions,
      doc.readings[0]?.extensions,
    ]).toEqual(['ABL', '1.4p3', 'VERIFIED', ['RFID_PLAIN'], { NEW: '1' }, { EI: '567', XV: '1', MF: null }]);
    expect(doc.deviations.map((d) => d.code)).toEqual([
      'LegacyFormatVersion',
      'IdentificationFlagsNotArray',
      'UnknownField',
      'UnknownField',
      'UnknownField',
      'AlgorithmDefault',
    ]);
  });

  it('reads the fixed-width DER integers of an eBZ meter and reports them', () => {
    const doc = parsed(
      `OCMF|${payloadWith({}, [BEGIN_READING])}|{"SA":"ECDSA-secp192r1-SHA256","SD":"30340218e10a077929f593717affdff69a5df0d2862989a6638f873d0218007d21b1c0255c5b24a3c5a01d600839ebae2bb67bcb1159"}`,
    );
    expect([doc.signature.encoding, doc.deviations.map((d) => d.code)]).toEqual([
      'der-non-canonical',
      ['SignatureDerNonCanonical'],
    ]);
  });
});

describe('parseOcmf: errors name what is wrong and where', () => {
  const body = payloadWith({}, [BEGIN_READING]);
  it.each([
    ['not OCMF at all', 'hello', 'NotOcmf', undefined],
    ['another header', `OCMX|${body}|${SIGNATURE}`, 'NotOcmf', undefined],
    ['no signature section', `OCMF|${body}`, 'SectionCount', undefined],
    ['a pipe inside the payload', `OCMF|{"a":"|"}|${SIGNATURE}`, 'SectionCount', undefined],
    ['broken payload JSON', `OCMF|{"PG":"T1",}|${SIGNATURE}`, 'PayloadJson', 'payload'],
    ['broken signature JSON', `OCMF|${body}|{"SD":}`, 'SignatureJson', 'signature'],
    ['a payload that is an array', `OCMF|[]|${SIGNATURE}`, 'FieldType', 'payload'],
    ['a duplicate key', `OCMF|{"PG":"T1","PG":"T2","RD":[]}|${SIGNATURE}`, 'PayloadJson', 'payload'],
    ['no readings', `OCMF|{"PG":"T1","MS":"M"}|${SIGNATURE}`, 'ReadingsMissing', 'payload.RD'],
    ['an empty RD', `OCMF|{"PG":"T1","RD":[]}|${SIGNATURE}`, 'ReadingsMissing', 'payload.RD'],
    ['a reading that is a string', `OCMF|{"PG":"T1","RD":["x"]}|${SIGNATURE}`, 'FieldType', 'payload.RD[0]'],
    [
      'RV that is no decimal',
      `OCMF|{"PG":"T1","RD":[{"RV":"1,5","RU":"kWh"}]}|${SIGNATURE}`,
      'ReadingValueMalformed',
      'payload.RD[0].RV',
    ],
    ['RV as an object', `OCMF|{"PG":"T1","RD":[{"RV":{}}]}|${SIGNATURE}`, 'FieldType', 'payload.RD[0].RV'],
    ['an unknown TX', `OCMF|{"PG":"T1","RD":[{"TX":"Q","RV":1}]}|${SIGNATURE}`, 'FieldValue', 'payload.RD[0].TX'],
    ['an unknown ST', `OCMF|{"PG":"T1","RD":[{"ST":"OK","RV":1}]}|${SIGNATURE}`, 'FieldValue', 'payload.RD[0].ST'],
    [
      'a malformed TM',
      `OCMF|{"PG":"T1","RD":[{"TM":"yesterday","RV":1}]}|${SIGNATURE}`,
      'TimeMalformed',
      'payload.RD[0].TM',
    ],
    ['IS as a number', `OCMF|{"PG":"T1","IS":1,"RD":[{"RV":1}]}|${SIGNATURE}`, 'FieldType', 'payload.IS'],
    ['MS as an object', `OCMF|{"PG":"T1","MS":{},"RD":[{"RV":1}]}|${SIGNATURE}`, 'FieldType', 'payload.MS'],
    ['no SD', `OCMF|${body}|{"SA":"ECDSA-secp256r1-SHA256"}`, 'SignatureDataMissing', 'signature.SD'],
    [
      'an unknown SA',
      `OCMF|${body}|{"SA":"ECDSA-secp521r1-SHA512","SD":"00"}`,
      'SignatureAlgorithmUnsupported',
      'signature.SA',
    ],
    ['an unknown SE', `OCMF|${body}|{"SE":"base32","SD":"00"}`, 'SignatureEncodingUnsupported', 'signature.SE'],
    [
      'an unknown SM',
      `OCMF|${body}|{"SM":"application/json","SD":"00"}`,
      'SignatureMimeTypeUnsupported',
      'signature.SM',
    ],
    ['SD that is not hex', `OCMF|${body}|{"SD":"zz!"}`, 'SignatureUndecodable', 'signature.SD'],
    ['SD that is neither DER nor r||s', `OCMF|${body}|{"SD":"0102"}`, 'SignatureUndecodable', 'signature.SD'],
    [
      'SD declared Base64 that is not',
      `OCMF|${body}|{"SE":"base64","SD":"@@"}`,
      'SignatureUndecodable',
      'signature.SD',
    ],
  ])('%s', (_, text, code, path) => {
    const error = failure(text);
    expect(error === 'parsed' ? error : [error.code, error.path]).toEqual([code, path]);
  });

  it('rejects more readings than MAX_READINGS_PER_RECORD and text beyond MAX_OCMF_TEXT_CHARS', () => {
    const many = Array.from({ length: 1001 }, () => '{"RV":1}').join(',');
    expect(failure(`OCMF|{"PG":"T1","RD":[${many}]}|${SIGNATURE}`)).toMatchObject({ code: 'TooManyReadings' });
    expect(failure(`OCMF|${' '.repeat(70_000)}`)).toMatchObject({ code: 'InputTooLong' });
  });

  it('says where a JSON error is', () => {
    expect(failure(`OCMF|{"PG":"T1",}|${SIGNATURE}`)).toEqual({
      code: 'PayloadJson',
      message: 'payload: expected a key in double quotes at offset 11',
      path: 'payload',
    });
  });
});
