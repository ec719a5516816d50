import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OCMF_CURVES, type OcmfCurve } from './curves.ts';
import {
  BEGIN_READING,
  END_READING,
  payloadWith,
  pointHex,
  signedOcmf,
  TEST_KEYS,
} from './ocmf-test-kit.test-support.ts';
import { parseOcmf } from './parse-ocmf.ts';
import { type VerifyOcmfOptions, verifyOcmf } from './verify-ocmf.ts';

function docOf(text: string) {
  const result = parseOcmf(text);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function verdictOf(text: string, key: string | undefined, options?: VerifyOcmfOptions) {
  return verifyOcmf(docOf(text), key, options);
}

const codes = (items: readonly { code: string }[]) => items.map((item) => item.code);
const SESSION = payloadWith({}, [BEGIN_READING, END_READING]);

describe('verifyOcmf: signatures on every OCMF curve', () => {
  it.each(OCMF_CURVES)('accepts a DER signature on %s and computes the energy exactly', (curve: OcmfCurve) => {
    const verdict = verdictOf(signedOcmf(SESSION, curve), TEST_KEYS[curve].spkiHex);
    expect(verdict.status).toBe('valid');
    expect(verdict.reasons).toEqual([]);
    expect(verdict.signature).toEqual({
      status: 'valid',
      algorithm: `ECDSA-${curve}-SHA256`,
      algorithmSource: 'SA',
      encoding: 'der',
      publicKey: { curve, form: 'spki', textEncoding: 'hex', spkiHex: TEST_KEYS[curve].spkiHex },
    });
    expect(verdict.curve).toBe(curve);
    expect(verdict.energyWh).toEqual({ registerId: '1-b:1.8.0', begin: '1234560', end: '1256789', delta: '22229' });
  });

  it.each(OCMF_CURVES)('accepts raw r||s in Base64 with a bare X||Y key on %s', (curve: OcmfCurve) => {
    const verdict = verdictOf(signedOcmf(SESSION, curve, { raw: true, base64: true }), pointHex(curve).slice(2));
    expect([verdict.status, verdict.signature.encoding, verdict.signature.publicKey?.form]).toEqual([
      'valid',
      'ieee-p1363',
      'raw-xy',
    ]);
  });

  it('applies the default algorithm when SA is absent', () => {
    const verdict = verdictOf(signedOcmf(SESSION, 'secp256r1', { sa: null }), TEST_KEYS.secp256r1.spkiHex);
    expect([verdict.status, verdict.signature.algorithmSource, verdict.signature.algorithm]).toEqual([
      'valid',
      'default',
      'ECDSA-secp256r1-SHA256',
    ]);
  });

  it('rejects a payload changed after signing, down to one digit', () => {
    const text = signedOcmf(SESSION, 'secp256r1').replace('"RV":1256.789', '"RV":1256.788');
    const verdict = verdictOf(text, TEST_KEYS.secp256r1.spkiHex);
    expect([verdict.status, verdict.signature.status, verdict.reasons]).toEqual([
      'invalid',
      'invalid',
      [
        {
          code: 'SignatureMismatch',
          message: 'the signature does not match the payload and this public key (altered data or another key)',
        },
      ],
    ]);
  });

  it('rejects a payload re-serialised with other whitespace, because the signature covers the exact bytes', () => {
    const text = signedOcmf(SESSION, 'secp256k1').replace('"FV":"1.0"', '"FV": "1.0"');
    expect(codes(verdictOf(text, TEST_KEYS.secp256k1.spkiHex).reasons)).toEqual(['SignatureMismatch']);
  });

  it('rejects the key of another meter on the same curve', () => {
    const otherMeter = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    const verdict = verdictOf(signedOcmf(SESSION, 'secp256r1'), otherMeter.toString('hex'));
    expect([verdict.status, codes(verdict.reasons)]).toEqual(['invalid', ['SignatureMismatch']]);
  });

  it('rejects a key on another curve than the algorithm names', () => {
    const verdict = verdictOf(signedOcmf(SESSION, 'secp256k1'), TEST_KEYS.secp256r1.spkiHex);
    expect([verdict.status, verdict.signature.status, verdict.reasons]).toEqual([
      'invalid',
      'invalid',
      [
        {
          code: 'KeyCurveMismatch',
          message: 'the public key is on curve secp256r1 but the record is signed with ECDSA-secp256k1-SHA256',
        },
      ],
    ]);
  });

  it('reports a record without a key, or with an undecodable one, as unverifiable, never as valid', () => {
    const text = signedOcmf(SESSION, 'secp256r1');
    expect([verdictOf(text, undefined).status, verdictOf(text, undefined).reasons]).toEqual([
      'unverifiable',
      [{ code: 'PublicKeyMissing', message: 'no public key: the signature cannot be checked' }],
    ]);
    const garbage = verdictOf(text, 'not a key!');
    expect([garbage.status, garbage.signature.status, codes(garbage.reasons)]).toEqual([
      'unverifiable',
      'unverifiable',
      ['PublicKeyUndecodable'],
    ]);
  });

  it('still reports inconsistent contents of a record without key as invalid', () => {
    const text = signedOcmf(payloadWith({}, [BEGIN_READING.replace('"EF":""', '"EF":"E"')]), 'secp256r1');
    expect([verdictOf(text, undefined).status, codes(verdictOf(text, undefined).reasons)]).toEqual([
      'invalid',
      ['PublicKeyMissing', 'MeterErrorFlagged'],
    ]);
  });
});

describe('verifyOcmf: where the algorithm comes from', () => {
  it('takes the OCPP signingMethod when the record has no SA', () => {
    const verdict = verdictOf(signedOcmf(SESSION, 'secp256k1', { sa: null }), TEST_KEYS.secp256k1.spkiHex, {
      signingMethod: 'ECDSA-secp256k1-SHA256',
    });
    expect([verdict.status, verdict.signature.algorithmSource, codes(verdict.warnings)]).toEqual([
      'valid',
      'signingMethod',
      ['AlgorithmDefault', 'AlgorithmFromSigningMethod'],
    ]);
  });

  it('accepts an empty signingMethod (the data names its algorithm) and rejects a contradicting or unknown one', () => {
    const text = signedOcmf(SESSION, 'secp256k1');
    expect(verdictOf(text, TEST_KEYS.secp256k1.spkiHex, { signingMethod: '' }).status).toBe('valid');
    expect(verdictOf(text, TEST_KEYS.secp256k1.spkiHex, { signingMethod: 'ECDSA-secp256k1-SHA256' }).status).toBe(
      'valid',
    );
    expect(verdictOf(text, TEST_KEYS.secp256k1.spkiHex, { signingMethod: 'ECDSA-secp256r1-SHA256' }).reasons).toEqual([
      {
        code: 'SigningMethodConflict',
        message: "signingMethod ECDSA-secp256r1-SHA256 contradicts the record's SA ECDSA-secp256k1-SHA256",
      },
    ]);
    expect(codes(verdictOf(text, TEST_KEYS.secp256k1.spkiHex, { signingMethod: 'RSA-2048' }).reasons)).toEqual([
      'SigningMethodConflict',
    ]);
  });

  it('takes the curve from the key for format versions before 0.4, which had no default algorithm', () => {
    const legacy = payloadWith({ FV: '0.1' }, [BEGIN_READING]);
    const verdict = verdictOf(signedOcmf(legacy, 'secp256k1', { sa: null }), TEST_KEYS.secp256k1.spkiHex);
    expect([
      verdict.status,
      verdict.signature.algorithm,
      verdict.signature.algorithmSource,
      codes(verdict.warnings),
    ]).toEqual([
      'valid',
      'ECDSA-secp256k1-SHA256',
      'publicKey',
      ['LegacyFormatVersion', 'AlgorithmDefault', 'AlgorithmFromKey'],
    ]);
    const current = verdictOf(signedOcmf(SESSION, 'secp256k1', { sa: null }), TEST_KEYS.secp256k1.spkiHex);
    expect(codes(current.reasons)).toEqual(['KeyCurveMismatch']);
  });
});

describe('verifyOcmf: consistency of the record', () => {
  const verdictFor = (fields: Record<string, unknown>, readings: string[]) => {
    const verdict = verdictOf(signedOcmf(payloadWith(fields, readings), 'secp256r1'), TEST_KEYS.secp256r1.spkiHex);
    expect(verdict.signature.status).toBe('valid');
    return verdict;
  };

  it('rejects error flags and a meter state other than G', () => {
    const verdict = verdictFor({}, [
      BEGIN_READING,
      END_READING.replace('"EF":""', '"EF":"Et"').replace('"ST":"G"', '"ST":"F"'),
    ]);
    expect(verdict.reasons).toEqual([
      { code: 'MeterErrorFlagged', message: "error flags on reading 1 (EF 'Et'): those quantities are not billable" },
      { code: 'MeterStatusNotOk', message: "meter state not G (good) on reading 1 (ST 'F')" },
    ]);
    expect(verdict.status).toBe('invalid');
  });

  it.each([
    [{ PG: undefined }, 'PaginationMissing', 'the record has no pagination (PG)'],
    [
      { PG: 'T01' },
      'PaginationMalformed',
      "pagination 'T01' is not T or F followed by a counter without leading zeros",
    ],
    [{ PG: 'P1' }, 'PaginationMalformed', "pagination 'P1' is not T or F followed by a counter without leading zeros"],
    [
      { MS: undefined, GS: undefined },
      'SerialNumberMissing',
      'neither a meter serial (MS) nor a gateway serial (GS) is given',
    ],
  ])('checks the header: %j', (fields, code, message) => {
    expect(verdictFor(fields, [BEGIN_READING, END_READING]).reasons).toEqual([{ code, message }]);
  });

  it('accepts F pagination and a gateway serial in place of a missing meter serial, with a note', () => {
    const verdict = verdictFor({ PG: 'F0', MS: undefined }, [BEGIN_READING, END_READING]);
    expect([
      verdict.status,
      verdict.pagination,
      verdict.meterSerial,
      verdict.sourceSerial,
      codes(verdict.warnings),
    ]).toEqual(['valid', { context: 'F', counter: '0' }, null, 'GW-1', ['MeterSerialMissing']]);
  });

  it('rejects a second begin, a reading after the end, a register running backwards and time going back', () => {
    expect(verdictFor({}, [BEGIN_READING, BEGIN_READING, END_READING]).reasons).toEqual([
      { code: 'TransactionBeginRepeated', message: 'reading 1 begins register 1-b:1.8.0 again' },
    ]);
    expect(
      codes(verdictFor({}, [BEGIN_READING, END_READING, END_READING.replace('"TX":"E"', '"TX":"C"')]).reasons),
    ).toEqual(['ReadingsOutOfOrder']);
    expect(verdictFor({}, [BEGIN_READING, END_READING.replace('1256.789', '1234.559')]).reasons).toEqual([
      {
        code: 'MeterRunningBackwards',
        message: 'reading 1 of register 1-b:1.8.0 (1234.559 kWh) is below reading 0 (1234.560 kWh)',
      },
    ]);
    expect(verdictFor({}, [BEGIN_READING, END_READING.replace('19:45:00', '17:29:59')]).reasons).toEqual([
      {
        code: 'TimeGoesBackwards',
        message:
          'reading 1 (2025-03-11T17:29:59,000+0100 S) is earlier than reading 0 (2025-03-11T17:30:00,000+0100 S) of register 1-b:1.8.0',
      },
    ]);
  });

  it('does not compare times of an unsynchronised clock, and notes it', () => {
    const verdict = verdictFor({}, [
      BEGIN_READING.replace('+0100 S', '+0100 U'),
      END_READING.replace('19:45:00', '17:29:59'),
    ]);
    expect([verdict.status, codes(verdict.warnings)]).toEqual(['valid', ['TimeNotSynchronized']]);
  });

  it('rejects negative energy and notes an exception reading', () => {
    expect(codes(verdictFor({}, [BEGIN_READING.replace('1234.560', '-1')]).reasons)).toEqual(['ReadingValueNegative']);
    const exception = verdictFor({}, [BEGIN_READING, END_READING.replace('"TX":"E"', '"TX":"X"')]);
    expect([exception.status, codes(exception.warnings), exception.energyWh]).toEqual([
      'valid',
      ['TransactionException'],
      null,
    ]);
  });

  it('bills the register the first reading names, in Wh, exactly', () => {
    const verdict = verdictFor({}, [
      '{"TM":"2021-10-06T13:13:56,000+0200 R","TX":"B","RV":57584,"RI":"1-0:1.8.0","RU":"Wh","ST":"G"}',
      '{"RV":4.405,"RI":"1-0:2.8.0","RU":"kWh"}',
      '{"TM":"2021-10-06T13:15:13,000+0200 R","TX":"E","RV":58.685,"RI":"1-0:1.8.0","RU":"kWh"}',
      '{"RV":4.406,"RI":"1-0:2.8.0","RU":"kWh"}',
    ]);
    expect(verdict.energyWh).toEqual({ registerId: '1-0:1.8.0', begin: '57584', end: '58685', delta: '1101' });
    expect(verdict.readings.map((reading) => reading.valueWh)).toEqual(['57584', '4405', '58685', '4406']);
  });

  it('has no energy for a record with only a begin reading', () => {
    expect(verdictFor({}, [BEGIN_READING]).energyWh).toBeNull();
  });
});

describe('verifyOcmf: billed energy', () => {
  const text = signedOcmf(SESSION, 'secp256r1');
  const key = TEST_KEYS.secp256r1.spkiHex;
  it('accepts a billed energy equal to the signed one, in Wh or milli-Wh', () => {
    expect(verdictOf(text, key, { billedEnergy: { wh: '22229' } }).status).toBe('valid');
    expect(verdictOf(text, key, { billedEnergy: { wh: '22229.000' } }).status).toBe('valid');
    expect(verdictOf(text, key, { billedEnergy: { milliWh: 22_229_000n } }).status).toBe('valid');
  });

  it('rejects a billed energy off by one milli-watt-hour', () => {
    expect(verdictOf(text, key, { billedEnergy: { milliWh: 22_229_001n } }).reasons).toEqual([
      {
        code: 'BilledEnergyMismatch',
        message: 'billed 22229.001 Wh but the meter signed 22229 Wh (1256789 − 1234560)',
      },
    ]);
  });

  it('rejects billing from a record that signs no energy', () => {
    const begin = signedOcmf(payloadWith({}, [BEGIN_READING]), 'secp256r1');
    expect(codes(verdictOf(begin, key, { billedEnergy: { wh: '0' } }).reasons)).toEqual(['SignedEnergyMissing']);
  });
});

describe('verifyOcmf: output', () => {
  it('is plain data that survives a JSON round trip unchanged', () => {
    const verdict = verdictOf(signedOcmf(SESSION, 'brainpool384r1'), TEST_KEYS.brainpool384r1.spkiHex);
    expect(JSON.parse(JSON.stringify(verdict))).toEqual(verdict);
  });
});
