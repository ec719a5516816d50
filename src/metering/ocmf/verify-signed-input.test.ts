import { describe, expect, it } from 'vitest';
import { conformanceJson, conformanceText, payloadWith, signedOcmf, TEST_KEYS } from './ocmf-test-kit.test-support.ts';
import { verifySignedInput } from './verify-signed-input.ts';

const base64 = (text: string) => Buffer.from(text).toString('base64');
const OCA_KEY = base64(`oca:base16:asn1:${TEST_KEYS.secp256r1.spkiHex}`);
const reading = (tx: string, rv: string, time: string) =>
  `{"TM":"2025-03-11T${time},000+0100 S","TX":"${tx}","RV":${rv},"RI":"1-b:1.8.0","RU":"kWh","EF":"","ST":"G"}`;
const BEGIN = signedOcmf(payloadWith({ PG: 'T41' }, [reading('B', '10.00', '17:00:00')]), 'secp256r1');
const END = signedOcmf(payloadWith({ PG: 'T42' }, [reading('E', '31.25', '18:30:00')]), 'secp256r1');
const BOTH = signedOcmf(
  payloadWith({ PG: 'T43' }, [reading('B', '31.25', '19:00:00'), reading('E', '40', '20:00:00')]),
  'secp256r1',
);

function report(input: string, options?: Parameters<typeof verifySignedInput>[1]) {
  const result = verifySignedInput(input, options);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const summary = (input: string, options?: Parameters<typeof verifySignedInput>[1]) => {
  const { status, exitCode, input: kind, records, sessions } = report(input, options);
  return {
    status,
    exitCode,
    kind,
    records: records.map((record) =>
      'verdict' in record ? `${record.label}: ${record.verdict.status}` : `${record.label}: ${record.malformed.code}`,
    ),
    sessions: sessions.map((session) => [session.verdict.status, session.verdict.energyWh?.delta ?? null]),
  };
};

describe('verifySignedInput: OCPP transports', () => {
  it('reads an OCPP 1.6 StopTransaction whose SignedData values hold the application note JSON', () => {
    const sampled = (context: string, ocmf: string) => ({
      context,
      format: 'SignedData',
      measurand: 'Energy.Active.Import.Register',
      value: JSON.stringify({
        signedMeterData: base64(ocmf),
        signingMethod: '',
        encodingMethod: 'OCMF',
        publicKey: OCA_KEY,
      }),
    });
    const message = [
      2,
      '729491009',
      'StopTransaction',
      {
        meterStop: 31250,
        transactionId: 7,
        transactionData: [
          {
            timestamp: '2025-03-11T17:30:00Z',
            sampledValue: [sampled('Transaction.Begin', BEGIN), sampled('Transaction.End', END)],
          },
        ],
      },
    ];
    expect(summary(JSON.stringify(message))).toEqual({
      status: 'valid',
      exitCode: 0,
      kind: 'ocpp-json',
      records: [
        '$[3].transactionData[0].sampledValue[0] (Transaction.Begin): valid',
        '$[3].transactionData[0].sampledValue[1] (Transaction.End): valid',
      ],
      sessions: [['valid', '21250']],
    });
  });

  it('reads an OCPP 2.0.1 TransactionEvent with signedMeterValue objects', () => {
    const sampled = (ocmf: string) => ({
      value: 0,
      signedMeterValue: {
        signedMeterData: base64(ocmf),
        signingMethod: '',
        encodingMethod: 'OCMF',
        publicKey: OCA_KEY,
      },
    });
    const request = {
      eventType: 'Ended',
      seqNo: 4,
      meterValue: [{ timestamp: '2025-03-11T18:30:00Z', sampledValue: [sampled(BEGIN), sampled(END)] }],
    };
    expect(summary(JSON.stringify(request))).toMatchObject({
      status: 'valid',
      exitCode: 0,
      sessions: [['valid', '21250']],
    });
  });

  it('reads a bare SignedMeterValueType, a hex-encoded record and a record in Base64', () => {
    const smv = JSON.stringify({
      signedMeterData: base64(BOTH),
      signingMethod: '',
      encodingMethod: 'OCMF',
      publicKey: OCA_KEY,
    });
    expect(summary(smv)).toEqual({
      status: 'valid',
      exitCode: 0,
      kind: 'text',
      records: ['input: valid'],
      sessions: [],
    });
    const key = { publicKey: TEST_KEYS.secp256r1.spkiHex };
    expect(summary(Buffer.from(BOTH).toString('hex'), key).exitCode).toBe(0);
    expect(summary(base64(BOTH), key).exitCode).toBe(0);
  });
});

describe('verifySignedInput: keys and exit codes', () => {
  const key = { publicKey: TEST_KEYS.secp256r1.spkiHex };

  it('exit 0 for a valid record, also a lone begin record, which has no energy but nothing wrong', () => {
    expect(summary(BOTH, key)).toEqual({
      status: 'valid',
      exitCode: 0,
      kind: 'text',
      records: ['input: valid'],
      sessions: [],
    });
    expect(summary(BEGIN, key).exitCode).toBe(0);
  });

  it('exit 1 without a key (unverifiable) and with a wrong key (invalid)', () => {
    expect(summary(BOTH)).toMatchObject({ status: 'unverifiable', exitCode: 1 });
    expect(summary(BOTH, { publicKey: TEST_KEYS.secp256k1.spkiHex })).toMatchObject({ status: 'invalid', exitCode: 1 });
  });

  it('uses the given key over a carried one, and notes when they differ', () => {
    const smv = JSON.stringify({
      signedMeterData: base64(BOTH),
      encodingMethod: 'OCMF',
      publicKey: base64(`oca:base16:asn1:${TEST_KEYS.secp256k1.spkiHex}`),
    });
    const result = report(smv, key);
    const record = result.records[0]!;
    expect([result.exitCode, 'verdict' in record && record.verdict.warnings.map((warning) => warning.code)]).toEqual([
      0,
      ['PublicKeyOverridden'],
    ]);
  });

  it('exit 2 for a key that cannot be decoded and for data that is not signed meter data', () => {
    expect(summary(BOTH, { publicKey: 'not a key!' })).toEqual({
      status: 'malformed',
      exitCode: 2,
      kind: 'text',
      records: ['input: PublicKeyEncoding'],
      sessions: [],
    });
    expect(summary('EDL40 1b1b1b1b')).toMatchObject({ exitCode: 2, records: ['input: EncodingUnrecognized'] });
    expect(summary('OCMF|{"PG":"T1"}|{"SD":"00"}')).toMatchObject({ exitCode: 2, records: ['input: ReadingsMissing'] });
  });

  it.each([
    ['', 'InputEmpty'],
    ['{"a":', 'JsonUnreadable'],
    ['{"meterValue":[]}', 'NoSignedData'],
    ['<values>', 'XmlUnreadable'],
  ])('refuses input %j: %s', (input, code) => {
    const result = verifySignedInput(input);
    expect(result.ok ? 'read' : result.error.code).toBe(code);
  });
});

describe('verifySignedInput: billed energy', () => {
  const key = TEST_KEYS.secp256r1.spkiHex;
  it('matches the one transaction of the input exactly', () => {
    expect(report(BOTH, { publicKey: key, billedEnergy: { wh: '8750' } }).billing).toEqual({
      billedWh: '8750',
      signedWh: '8750',
      status: 'match',
      problem: null,
    });
    const mismatch = report(BOTH, { publicKey: key, billedEnergy: { milliWh: 8_750_001n } });
    expect([mismatch.exitCode, mismatch.status, mismatch.billing?.billedWh, mismatch.billing?.problem?.code]).toEqual([
      1,
      'invalid',
      '8750.001',
      'BilledEnergyMismatch',
    ]);
  });

  it('bills a session of separate records', () => {
    const xml = `<values><value transactionId="9"><signedData>${BEGIN}</signedData></value><value transactionId="9"><signedData>${END}</signedData></value></values>`;
    expect(report(xml, { publicKey: key, billedEnergy: { wh: '21250' } }).billing?.status).toBe('match');
  });

  it('refuses to guess which of several transactions was billed', () => {
    const xml = `<values><value><signedData>${BOTH}</signedData></value><value><signedData>${BOTH}</signedData></value></values>`;
    const result = verifySignedInput(xml, { publicKey: key, billedEnergy: { wh: '1' } });
    expect(result.ok ? 'verified' : result.error).toEqual({
      code: 'BilledEnergyAmbiguous',
      message: 'a billed energy needs exactly one transaction in the input, found 2',
    });
  });
});

describe('verifySignedInput: Transparenzsoftware exports and Alfen', () => {
  const xml = (file: string) => conformanceText(`safe-ev-transparenzsoftware/src/test/resources/xml/${file}`);
  it.each([
    ['brainpoolP256r1.xml', 'valid', 0, [['valid', '0']]],
    ['ocmf_sec.xml', 'valid', 0, [['valid', '0']]],
    ['test_ocmf_ebee_02.xml', 'invalid', 1, [['invalid', '-10']]],
    ['signature_16955306_ALL.xml', 'unverifiable', 1, [['unverifiable', '890']]],
    ['measurements.xml', 'valid', 0, []],
    ['test_ocmf_transaction_two_values.xml', 'invalid', 1, [['invalid', '9123.1']]],
    ['isa-edl-40p-ok.xml', 'malformed', 2, []],
  ])('%s: %s, exit %i', (file, status, exitCode, sessions) => {
    expect(summary(xml(file))).toMatchObject({ status, exitCode, sessions });
  });

  it('verifies an Alfen record with its own key and notes that the key must be compared with the meter', () => {
    const [first] = conformanceJson<{ cases: { alfenString: string }[] }>(
      'safe-ev-transparenzsoftware/alfen-samples.json',
    ).cases;
    const result = report(first!.alfenString);
    const record = result.records[0]!;
    expect([
      result.exitCode,
      'verdict' in record && record.verdict.format,
      'verdict' in record && record.verdict.warnings.map((w) => w.code),
    ]).toEqual([0, 'ALFEN', ['PublicKeyFromData']]);
    expect(summary(first!.alfenString, { publicKey: 'bad key!' }).exitCode).toBe(2);
  });
});
