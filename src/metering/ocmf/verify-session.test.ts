import { describe, expect, it } from 'vitest';
import type { OcmfCurve } from './curves.ts';
import { payloadWith, signedOcmf, TEST_KEYS } from './ocmf-test-kit.test-support.ts';
import { parseOcmf } from './parse-ocmf.ts';
import { verifyOcmf } from './verify-ocmf.ts';
import { verifyOcmfSession } from './verify-ocmf-session.ts';
import { type SessionRecord, verifySession } from './verify-session.ts';

type Part = {
  PG: string;
  TX: string;
  RV: string;
  TM?: string;
  RI?: string;
  MS?: string;
  ID?: string;
  curve?: OcmfCurve;
  key?: 'none';
};

/** One signed single-reading record ("SR" form), verified. */
function record(part: Part) {
  const curve = part.curve ?? 'secp256r1';
  const reading = `{"TM":"2025-03-11T${part.TM ?? '18:00:00'},000+0100 S","TX":"${part.TX}","RV":${part.RV},"RI":"${part.RI ?? '1-b:1.8.0'}","RU":"kWh","EF":"","ST":"G"}`;
  const fields = {
    PG: part.PG,
    ...(part.MS === undefined ? {} : { MS: part.MS }),
    ...(part.ID === undefined ? {} : { ID: part.ID }),
  };
  const doc = parseOcmf(signedOcmf(payloadWith(fields, [reading]), curve));
  if (!doc.ok) throw new Error(doc.error.message);
  return verifyOcmf(doc.value, part.key === 'none' ? undefined : TEST_KEYS[curve].spkiHex);
}

const BEGIN: Part = { PG: 'T10', TX: 'B', RV: '100.000', TM: '17:00:00' };
const TARIFF: Part = { PG: 'T11', TX: 'T', RV: '105.250', TM: '18:00:00' };
const END: Part = { PG: 'T12', TX: 'E', RV: '112.5', TM: '19:00:00' };

const reasonsOf = (...parts: Part[]) => verifyOcmfSession(parts.map(record)).reasons;
const codesOf = (...parts: Part[]) => reasonsOf(...parts).map((reason) => reason.code);

describe('verifyOcmfSession: a transaction in separate records', () => {
  it('accepts begin, a tariff change and end with continuous pagination, in any order', () => {
    const expected = {
      status: 'valid',
      reasons: [],
      warnings: [],
      recordCount: 3,
      sourceSerial: 'METER-1',
      pagination: { first: 'T10', last: 'T12' },
      energyWh: { registerId: '1-b:1.8.0', begin: '100000', end: '112500', delta: '12500' },
    };
    expect(verifyOcmfSession([BEGIN, TARIFF, END].map(record))).toEqual(expected);
    expect(verifyOcmfSession([END, BEGIN, TARIFF].map(record))).toEqual(expected);
  });

  it('compares the session energy with the billed energy exactly', () => {
    const verdicts = [BEGIN, { ...END, PG: 'T11' }].map(record);
    expect(verifyOcmfSession(verdicts, { billedEnergy: { milliWh: 12_500_000n } }).status).toBe('valid');
    expect(verifyOcmfSession(verdicts, { billedEnergy: { wh: '12500.5' } }).reasons).toEqual([
      { code: 'BilledEnergyMismatch', message: 'billed 12500.5 Wh but the meter signed 12500 Wh (112500 − 100000)' },
    ]);
  });

  it('rejects a gap, a duplicate and mixed contexts in the pagination', () => {
    expect(reasonsOf(BEGIN, END).map((reason) => reason.message)).toEqual([
      '1 record(s) missing between record 1 (T10) and record 2 (T12)',
    ]);
    expect(codesOf(BEGIN, { ...END, PG: 'T10' })).toEqual(['PaginationDuplicate']);
    expect(codesOf(BEGIN, { ...END, PG: 'F11' })).toEqual(['PaginationContextMixed']);
  });

  it('rejects records from another meter or signed with another key', () => {
    expect(reasonsOf(BEGIN, { ...TARIFF, MS: 'METER-2' })).toEqual([
      { code: 'MeterSerialChanged', message: 'the records come from different meters: METER-1, METER-2' },
      { code: 'TransactionEndMissing', message: 'the last record, record 2 (T11), does not end the transaction' },
    ]);
    expect(codesOf(BEGIN, { ...TARIFF, TX: 'E', curve: 'secp256k1' })).toEqual(['PublicKeyChanged']);
  });

  it('requires the begin first and the end last', () => {
    expect(codesOf(TARIFF, END)).toEqual(['TransactionBeginMissing']);
    expect(codesOf(BEGIN, TARIFF)).toEqual(['TransactionEndMissing']);
    expect(codesOf(BEGIN, { ...TARIFF, TX: 'B' }, END)).toEqual(['ReadingsOutOfOrder']);
    expect(codesOf(BEGIN, { ...TARIFF, TX: 'E' }, END)).toEqual(['ReadingsOutOfOrder']);
  });

  it('rejects an end on another register, a register running backwards and an end before the begin', () => {
    expect(codesOf(BEGIN, TARIFF, { ...END, RI: '1-b:2.8.0' })).toEqual(['RegisterMismatch']);
    expect(reasonsOf(BEGIN, { ...TARIFF, RV: '99.999' }, END)).toEqual([
      {
        code: 'MeterRunningBackwards',
        message: 'record 2 (T11) reading 0 (99999 Wh) is below record 1 (T10) reading 0 (100000 Wh)',
      },
    ]);
    expect(codesOf(BEGIN, TARIFF, { ...END, TM: '16:59:59' })).toEqual(['TimeGoesBackwards']);
  });

  it('is invalid when a record is, unverifiable when a record has no key', () => {
    const unverifiable = verifyOcmfSession([BEGIN, TARIFF, { ...END, key: 'none' as const }].map(record));
    expect([unverifiable.status, unverifiable.reasons]).toEqual([
      'unverifiable',
      [{ code: 'RecordUnverifiable', message: 'record 3 (T12) could not be verified' }],
    ]);
    expect(codesOf(BEGIN, TARIFF, { ...END, RV: '-1' })).toEqual(['RecordInvalid', 'MeterRunningBackwards']);
  });

  it('notes a change of the user identification', () => {
    const session = verifyOcmfSession([BEGIN, TARIFF, { ...END, ID: 'OTHER' }].map(record));
    expect([session.status, session.warnings.map((warning) => warning.code)]).toEqual([
      'valid',
      ['IdentificationChanged'],
    ]);
  });

  it('accepts one record that holds both begin and end', () => {
    const doc = parseOcmf(
      signedOcmf(
        payloadWith({}, [
          '{"TM":"2025-03-11T17:00:00,000+0100 S","TX":"B","RV":1,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"}',
          '{"TM":"2025-03-11T18:00:00,000+0100 S","TX":"E","RV":2.5,"ST":"G"}',
        ]),
        'secp256r1',
      ),
    );
    const session = doc.ok ? verifyOcmfSession([verifyOcmf(doc.value, TEST_KEYS.secp256r1.spkiHex)]) : undefined;
    expect([session?.status, session?.energyWh?.delta]).toEqual(['valid', '1500']);
  });
});

describe('verifySession limits', () => {
  const summary = (counter: number): SessionRecord => ({
    label: `r${counter}`,
    status: 'valid',
    sourceSerial: 'M',
    publicKeySpkiHex: 'k',
    pagination: { context: 'T', counter: String(counter) },
    identification: null,
    sessionId: null,
    hasBegin: counter === 0,
    hasEnd: false,
    energyReadings: [],
  });

  it('refuses more than MAX_RECORDS_PER_SESSION records and an empty session', () => {
    expect(verifySession(Array.from({ length: 1001 }, (_, index) => summary(index))).reasons).toEqual([
      { code: 'TooManyRecords', message: 'a session of more than 1000 records' },
    ]);
    expect(verifySession([]).reasons).toEqual([{ code: 'TransactionBeginMissing', message: 'no records' }]);
  });
});
