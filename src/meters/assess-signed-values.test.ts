import { describe, expect, it } from 'vitest';
import {
  BEGIN_READING,
  END_READING,
  payloadWith,
  signedOcmf,
  TEST_KEYS,
} from '../metering/ocmf/ocmf-test-kit.test-support.ts';
import { assessSignedValues, type RegisteredMeter } from './assess-signed-values.ts';
import { buildOcpiSignedData } from './build-ocpi-signed-data.ts';

const KEY = TEST_KEYS.secp256r1.spkiHex;
/** One record with begin 1234.560 kWh and end 1256.789 kWh: 22 229 Wh, meter METER-1. */
const MR = signedOcmf(payloadWith({}, [BEGIN_READING, END_READING]), 'secp256r1');
/** The same transaction as two records, T1 (begin) and T2 (end). */
const SR_BEGIN = signedOcmf(payloadWith({ PG: 'T1' }, [BEGIN_READING]), 'secp256r1');
const SR_END = signedOcmf(payloadWith({ PG: 'T2' }, [END_READING]), 'secp256r1');
const meter = (over: Partial<RegisteredMeter> = {}): RegisteredMeter => ({
  serial: 'METER-1',
  publicKey: KEY,
  signedDataRequired: false,
  ...over,
});
const codes = (findings: { code: string; severity: string }[]) => findings.map((f) => `${f.code}:${f.severity}`);
/** The OCA application-note form: a SignedMeterValueType in the value string, with the key. */
const withKey = (ocmf: string, key = KEY) =>
  JSON.stringify({
    signedMeterData: Buffer.from(ocmf).toString('base64'),
    encodingMethod: 'OCMF',
    publicKey: Buffer.from(`oca:base16:asn1:${key}`).toString('base64'),
  });

describe('assessSignedValues', () => {
  it('verifies a record holding begin and end against the registry and the billed energy', () => {
    const result = assessSignedValues({ values: [MR], meter: meter(), billedEnergyWh: 22_229n });
    expect(result.status).toBe('verified');
    expect(result.pin).toBeNull();
    expect(result.findings).toEqual([
      {
        code: 'SignedDataVerified',
        severity: 'info',
        message: '1 signed record(s) from meter METER-1 verified; signed energy 22229 Wh equals the billed energy',
      },
    ]);
  });

  it('verifies begin and end records in any order, and counts a record sent twice (plain and hex) once', () => {
    const hex = Buffer.from(SR_BEGIN).toString('hex');
    const result = assessSignedValues({ values: [SR_END, SR_BEGIN, hex], meter: meter(), billedEnergyWh: 22_229n });
    expect(codes(result.findings)).toEqual(['SignedDataVerified:info']);
    expect(result.records).toHaveLength(2);
  });

  it('holds on a billed energy that is not the signed one', () => {
    const result = assessSignedValues({ values: [MR], meter: meter(), billedEnergyWh: 22_230n });
    expect(result.findings).toEqual([
      {
        code: 'SignedEnergyMismatch',
        severity: 'hold',
        message: 'billed 22230 Wh but the meter signed 22229 Wh (1256789 − 1234560)',
      },
    ]);
  });

  it('holds a tampered record, a missing end record and a different meter serial', () => {
    const tampered = MR.replace('"RV":1256.789', '"RV":1256.790');
    const bad = assessSignedValues({ values: [tampered], meter: meter(), billedEnergyWh: 22_230n });
    expect(codes(bad.findings)).toEqual(['SignedDataInvalid:hold']);
    expect(bad.findings[0]!.message).toContain('RecordInvalid');
    const beginOnly = assessSignedValues({ values: [SR_BEGIN], meter: meter(), billedEnergyWh: 22_229n });
    expect(codes(beginOnly.findings)).toEqual(['SignedDataInvalid:hold', 'SignedEnergyMismatch:hold']);
    expect(beginOnly.findings[0]!.message).toContain('TransactionEndMissing');
    const other = assessSignedValues({ values: [MR], meter: meter({ serial: 'METER-2' }), billedEnergyWh: 22_229n });
    expect(other.findings).toEqual([
      {
        code: 'MeterSerialMismatch',
        severity: 'hold',
        message: "the signed data comes from meter METER-1, the EVSE's registered meter is METER-2",
      },
    ]);
  });

  it('holds data signed with another key than the registered one, and data carrying another key', () => {
    const foreign = signedOcmf(payloadWith({}, [BEGIN_READING, END_READING]), 'secp256r1');
    const wrongKey = assessSignedValues({
      values: [foreign],
      meter: meter({ publicKey: TEST_KEYS.secp384r1.spkiHex }),
      billedEnergyWh: 22_229n,
    });
    expect(codes(wrongKey.findings)).toEqual(['SignedDataInvalid:hold']);
    const carried = assessSignedValues({
      values: [withKey(MR, TEST_KEYS.brainpool256r1.spkiHex)],
      meter: meter(),
      billedEnergyWh: 22_229n,
    });
    expect(codes(carried.findings)).toEqual(['MeterKeyMismatch:hold']);
  });

  it('pins the carried key when the meter has none and the data verifies with it; never from bad data', () => {
    const first = assessSignedValues({ values: [withKey(MR)], meter: null, billedEnergyWh: 22_229n });
    expect(codes(first.findings)).toEqual(['SignedDataVerified:info', 'MeterKeyPinned:warn']);
    expect(first.pin).toEqual({
      publicKey: Buffer.from(`oca:base16:asn1:${KEY}`).toString('base64'),
      serial: 'METER-1',
    });
    const tampered = withKey(MR.replace('"RV":1256.789', '"RV":1256.790'));
    const bad = assessSignedValues({ values: [tampered], meter: null, billedEnergyWh: 22_230n });
    expect(bad.pin).toBeNull();
    expect(codes(bad.findings)).toEqual(['SignedDataInvalid:hold']);
  });

  it('holds data that cannot be verified (no key anywhere) or read at all, and missing data where it is required', () => {
    expect(codes(assessSignedValues({ values: [MR], meter: null, billedEnergyWh: 22_229n }).findings)).toEqual([
      'SignedDataUnverifiable:hold',
    ]);
    const garbage = assessSignedValues({ values: ['hello'], meter: meter(), billedEnergyWh: 1n });
    expect(garbage.findings).toEqual([
      {
        code: 'SignedDataMalformed',
        severity: 'hold',
        message:
          'signed value 1: EncodingUnrecognized: the signed value is neither OCMF nor Alfen data, as text, hex, Base64 or JSON',
      },
    ]);
    expect(assessSignedValues({ values: [], meter: meter(), billedEnergyWh: 1n })).toMatchObject({
      status: 'none',
      findings: [],
    });
    expect(
      codes(
        assessSignedValues({ values: [], meter: meter({ signedDataRequired: true }), billedEnergyWh: 1n }).findings,
      ),
    ).toEqual(['SignedDataMissing:hold']);
  });

  it('checks only the signatures when the billed energy is unknown', () => {
    const result = assessSignedValues({ values: [MR], meter: meter(), billedEnergyWh: null });
    expect(codes(result.findings)).toEqual(['SignedDataVerified:info']);
  });
});

describe('buildOcpiSignedData', () => {
  it('gives one signed value per record: Start, End, the exact text in Base64 and a readable summary', () => {
    const { records } = assessSignedValues({ values: [SR_BEGIN, SR_END], meter: meter(), billedEnergyWh: 22_229n });
    const ocpi = buildOcpiSignedData(records)!;
    expect(ocpi).toEqual({
      encoding_method: 'OCMF',
      public_key: KEY,
      signed_values: [
        {
          nature: 'Start',
          plain_data: 'meter METER-1; B 2025-03-11T17:30:00,000+0100 S 1234.560 kWh (1-b:1.8.0)',
          signed_data: Buffer.from(SR_BEGIN).toString('base64'),
        },
        {
          nature: 'End',
          plain_data: 'meter METER-1; E 2025-03-11T19:45:00,000+0100 S 1256.789 kWh (1-b:1.8.0)',
          signed_data: Buffer.from(SR_END).toString('base64'),
        },
      ],
    });
    expect(buildOcpiSignedData([])).toBeNull();
  });
});
