import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { payloadWith, signedOcmf, TEST_KEYS } from './ocmf/ocmf-test-kit.test-support.ts';
import { runVerifyMeterCommand } from './verify-meter-command.ts';

const KEY = TEST_KEYS.secp256r1.spkiHex;
const reading = (tx: string, rv: string, time: string) =>
  `{"TM":"2025-03-11T${time},000+0100 S","TX":"${tx}","RV":${rv},"RI":"1-b:1.8.0","RU":"kWh","EF":"","ST":"G"}`;
const RECORD = signedOcmf(
  payloadWith({ PG: 'T43' }, [reading('B', '31.25', '19:00:00'), reading('E', '40', '20:00:00')]),
  'secp256r1',
);
const CONFORMANCE = new URL(
  '../../test/conformance/ocmf/safe-ev-transparenzsoftware/src/test/resources/',
  import.meta.url,
);

/** Runs the command with in-memory files; paths under conformance/ are read from the repository. */
async function run(argv: string[], files: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const conformancePath = (path: string) =>
    path.startsWith('conformance/') ? new URL(path.slice(12), CONFORMANCE) : undefined;
  const code = await runVerifyMeterCommand(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readFile: async (path) => {
      const url = conformancePath(path);
      if (url !== undefined) return readFile(url, 'utf8');
      const content = files[path];
      if (content === undefined) throw new Error(`ENOENT: ${path}`);
      return content;
    },
    fileExists: async (path) => path in files || conformancePath(path) !== undefined,
  });
  return { code, stdout, stderr };
}

describe('voltbill verify-meter: exit 0, valid and consistent', () => {
  it('prints the meter, the readings, the energy and the signature status of an OCMF string', async () => {
    expect(await run(['--public-key', KEY, RECORD])).toEqual({
      code: 0,
      stderr: '',
      stdout: `Record 1 of 1: input
  format      OCMF 1.0, ECDSA-secp256r1-SHA256 (SA), der signature
  meter       Meters Inc, M1, serial METER-1, firmware 1.0
  gateway     VOLTBILL TEST, serial GW-1, version 1.0
  pagination  T43
  identity    ISO14443 04A1B2C3D4E5F6
  readings    B  2025-03-11T19:00:00,000+0100 S  1-b:1.8.0  31.25 kWh (= 31250 Wh)  ST G
              E  2025-03-11T20:00:00,000+0100 S  1-b:1.8.0  40 kWh (= 40000 Wh)  ST G
  energy      8750 Wh = 40000 Wh (end) − 31250 Wh (begin), register 1-b:1.8.0
  signature   VALID (public key secp256r1, SPKI ${KEY})
  verdict     VALID

Result: VALID — signatures valid and records consistent (exit 0)
`,
    });
  });

  it('reads the input and the key from files', async () => {
    const result = await run(['--public-key', 'meter.pem', 'session.txt'], {
      'meter.pem': `-----BEGIN PUBLIC KEY-----\n${Buffer.from(KEY, 'hex').toString('base64')}\n-----END PUBLIC KEY-----\n`,
      'session.txt': `${RECORD}\n`,
    });
    expect([result.code, result.stderr]).toEqual([0, '']);
  });

  it('verifies a Transparenzsoftware export with its keys and prints the session', async () => {
    const result = await run(['conformance/xml/brainpoolP256r1.xml']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Session of 2 records, T274..T275, meter 12345678:');
    expect(result.stdout).toContain('  energy      0 Wh = 1833 Wh (end) − 1833 Wh (begin), register 1-0:1.8.1\n');
  });

  it('prints JSON with --json', async () => {
    const result = await run(['--json', '--public-key', KEY, RECORD]);
    const report = JSON.parse(result.stdout);
    expect([result.code, report.status, report.exitCode, report.records[0].verdict.energyWh]).toEqual([
      0,
      'valid',
      0,
      { registerId: '1-b:1.8.0', begin: '31250', end: '40000', delta: '8750' },
    ]);
  });

  it('accepts a billed energy equal to the signed one', async () => {
    expect((await run(['--public-key', KEY, '--billed-wh', '8750.000', RECORD])).code).toBe(0);
  });
});

describe('voltbill verify-meter: exit 1, well-formed but not valid', () => {
  it('for a record changed after signing', async () => {
    const result = await run(['conformance/xml/test_ocmf_keba_kcp30_fail.xml']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '  problem     SignatureMismatch: the signature does not match the payload and this public key (altered data or another key)\n',
    );
    expect(result.stdout).toContain(
      'Result: INVALID — the data is well-formed but not valid (see the problems above) (exit 1)\n',
    );
  });

  it('for the key of another curve, a missing key, and a billed energy that differs', async () => {
    expect((await run(['--public-key', TEST_KEYS.secp256k1.spkiHex, RECORD])).code).toBe(1);
    const unkeyed = await run([RECORD]);
    expect([unkeyed.code, unkeyed.stdout.split('\n').at(-2)]).toEqual([
      1,
      'Result: UNVERIFIABLE — no public key to check a signature with; pass --public-key (exit 1)',
    ]);
    const billed = await run(['--public-key', KEY, '--billed-wh', '8751', RECORD]);
    expect([billed.code, billed.stdout]).toEqual([
      1,
      expect.stringContaining(
        'Billing: billed 8751 Wh, signed 8750 Wh — MISMATCH: billed 8751 Wh but the meter signed 8750 Wh (40000 − 31250)\n',
      ),
    ]);
  });

  it('for records of an export that do not form a session', async () => {
    const result = await run(['--json', 'conformance/xml/test_ocmf_transaction_two_values.xml']);
    const report = JSON.parse(result.stdout);
    expect([result.code, report.sessions[0].verdict.reasons.map((reason: { code: string }) => reason.code)]).toEqual([
      1,
      ['PaginationDuplicate'],
    ]);
  });
});

describe('voltbill verify-meter: exit 2, malformed input or usage, with a message', () => {
  it.each([
    [['OCMF|{"PG":"T1"}|{"SD":"00"}'], 'error: input: ReadingsMissing: payload.RD (the readings) is missing\n'],
    [['OCMF|{"PG":"T1",|{}'], 'error: input: PayloadJson: payload: expected a key in double quotes at offset 11\n'],
    [['{"meterValue": ['], 'error: JSON: '],
    [
      ['--public-key', 'not a key!', RECORD],
      'error: input: PublicKeyEncoding: public key: the public key is neither hex, Base64, PEM nor an OCA key envelope\n',
    ],
    [['missing.xml'], "error: input 'missing.xml' is neither an existing file nor signed meter data\n"],
    [
      ['conformance/xml/test_input_xml_two_values.xml'],
      "error: value 1: EncodingMethodUnsupported: format 'SML_EDL40_P' is not supported (OCMF and Alfen are)\n",
    ],
    [['conformance/xml/test_input_invalid_xml.xml'], 'error: XML: the XML has no root element (is it cut off?)\n'],
  ])('%j', async (argv, message) => {
    const result = await run(argv);
    expect([result.code, result.stderr.startsWith(message)]).toEqual([2, true]);
  });

  it.each([
    [[], 'error: give exactly one OCMF string or file\n'],
    [['a', 'b'], 'error: give exactly one OCMF string or file\n'],
    [['--verbose', RECORD], "error: Unknown option '--verbose'"],
    [
      ['--billed-wh', '12 kWh', RECORD],
      "error: --billed-wh must be a non-negative decimal number of Wh, not '12 kWh'\n",
    ],
    [['--billed-wh=-1', RECORD], "error: --billed-wh must be a non-negative decimal number of Wh, not '-1'\n"],
  ])('usage %j', async (argv, message) => {
    const result = await run(argv);
    expect([
      result.code,
      result.stderr.startsWith(message),
      result.stderr.includes('usage: voltbill verify-meter'),
    ]).toEqual([2, true, true]);
  });

  it('says so when an argument that is no file is not signed data either', async () => {
    const result = await run(['session-export-2025-03-11']);
    expect([result.code, result.stderr]).toEqual([
      2,
      'error: input: EncodingUnrecognized: the signed value is neither OCMF nor Alfen data, as text, hex, Base64 or JSON\n' +
        "note: no file 'session-export-2025-03-11' exists, so the argument was read as signed meter data\n",
    ]);
  });

  it('prints the error as JSON too with --json', async () => {
    const result = await run(['--json', '{"a":']);
    expect([result.code, JSON.parse(result.stdout).error.code]).toEqual([2, 'JsonUnreadable']);
  });

  it('prints the usage with --help and exits 0', async () => {
    const result = await run(['--help']);
    expect([result.code, result.stdout.startsWith('usage: voltbill verify-meter [--public-key KEY]')]).toEqual([
      0,
      true,
    ]);
  });
});
