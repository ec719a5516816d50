/**
 * `voltbill verify-meter`: verifies signed meter values (OCMF, Alfen) and prints a verdict.
 *
 *   voltbill verify-meter [--public-key KEY] [--billed-wh WH] [--json] (OCMF_STRING | FILE)
 *
 * The input is an OCMF text ("OCMF|...|..."), an Alfen text ("AP;..."), either of them hex- or Base64-encoded, an
 * OCPP SignedMeterValueType JSON, OCPP JSON holding SignedData sampled values (a message or part of one), or a
 * Transparenzsoftware XML export — given directly or as a file. KEY is the meter's public key in any common form
 * (hex, spaced hex, Base64, PEM, the OCA "oca:base16:asn1:" envelope) or a file holding it; it replaces any key the
 * input carries. WH is the energy the session was billed with, compared exactly with the signed energy.
 *
 * Exit codes (a contract scripts rely on): 0 every signature valid and the records consistent; 1 well-formed but
 * not valid (bad signature, wrong key, no key, inconsistent records, billed energy differs); 2 malformed input or
 * usage (not OCMF, broken JSON, a signature or key that cannot be decoded), with a message on stderr.
 */
import { parseArgs } from 'node:util';
import { parseExactDecimal } from './ocmf/exact-decimal.ts';
import { formatReportText } from './ocmf/format-report-text.ts';
import { MAX_PUBLIC_KEY_TEXT_CHARS } from './ocmf/limits.ts';
import { verifySignedInput } from './ocmf/verify-signed-input.ts';

export type VerifyMeterCommandIo = {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string>;
  fileExists: (path: string) => Promise<boolean>;
};

const USAGE = `usage: voltbill verify-meter [--public-key KEY] [--billed-wh WH] [--json] (OCMF_STRING | FILE)

  OCMF_STRING | FILE   an OCMF or Alfen text, OCPP SignedMeterValue JSON or OCPP message JSON,
                       or a Transparenzsoftware XML export (a file, or the text itself)
  --public-key KEY     the meter's public key (hex, Base64, PEM, oca:base16:asn1:...) or a file with it
  --billed-wh WH       the billed energy in Wh; must equal the signed energy exactly
  --json               print the verdicts as JSON

exit codes: 0 valid and consistent, 1 not valid, 2 malformed input or usage`;

const INVALID_INPUT = 2;

/** Starts of text that is signed data rather than a file name. */
const DATA_START = /^(OCMF\||AP;|[{[<])/;
const ENCODED_DATA = /^[0-9A-Za-z+/=_\s-]{16,}$/;

/** Runs the command; returns the exit code. Never throws for bad input. */
export async function runVerifyMeterCommand(argv: string[], io: VerifyMeterCommandIo): Promise<number> {
  let values: { 'public-key'?: string; 'billed-wh'?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        'public-key': { type: 'string' },
        'billed-wh': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) return usageError(io, 'give exactly one OCMF string or file');
  const input = await readArgument(io, positionals[0] ?? '', 'input');
  if (input === undefined) return INVALID_INPUT;

  let publicKey: string | undefined;
  if (values['public-key'] !== undefined) {
    publicKey = await readKeyArgument(io, values['public-key']);
    if (publicKey === undefined) return INVALID_INPUT;
  }
  const billedText = values['billed-wh'];
  if (billedText !== undefined) {
    const billed = parseExactDecimal(billedText.trim());
    if (billed === undefined || billed.units < 0n) {
      return usageError(io, `--billed-wh must be a non-negative decimal number of Wh, not '${billedText}'`);
    }
  }

  const report = verifySignedInput(input.text, {
    publicKey,
    billedEnergy: billedText === undefined ? undefined : { wh: billedText },
  });
  if (!report.ok) {
    io.stderr(`error: ${report.error.message}\n`);
    if (values.json === true) {
      io.stdout(`${JSON.stringify({ status: 'malformed', exitCode: INVALID_INPUT, error: report.error }, null, 2)}\n`);
    }
    return INVALID_INPUT;
  }
  for (const record of report.value.records) {
    if ('malformed' in record)
      io.stderr(`error: ${record.label}: ${record.malformed.code}: ${record.malformed.message}\n`);
  }
  if (!input.fromFile && !DATA_START.test(input.text.trim()) && report.value.status === 'malformed') {
    io.stderr(`note: no file '${positionals[0]}' exists, so the argument was read as signed meter data\n`);
  }
  io.stdout(values.json === true ? `${JSON.stringify(report.value, null, 2)}\n` : formatReportText(report.value));
  return report.value.exitCode;
}

/** The input argument: a file when one exists under that name, else the data itself. */
async function readArgument(
  io: VerifyMeterCommandIo,
  argument: string,
  what: string,
): Promise<{ text: string; fromFile: boolean } | undefined> {
  if (argument.trim() !== '' && !DATA_START.test(argument.trim()) && (await io.fileExists(argument))) {
    try {
      return { text: await io.readFile(argument), fromFile: true };
    } catch (error) {
      io.stderr(`error: cannot read ${what} file ${argument}: ${(error as Error).message}\n`);
      return undefined;
    }
  }
  if (DATA_START.test(argument.trim()) || ENCODED_DATA.test(argument)) return { text: argument, fromFile: false };
  io.stderr(`error: ${what} '${argument}' is neither an existing file nor signed meter data\n`);
  return undefined;
}

async function readKeyArgument(io: VerifyMeterCommandIo, argument: string): Promise<string | undefined> {
  const key =
    argument.length <= MAX_PUBLIC_KEY_TEXT_CHARS && (await io.fileExists(argument))
      ? await readKeyFile(io, argument)
      : argument;
  if (key === undefined) return undefined;
  if (key.trim() === '') {
    usageError(io, '--public-key is empty');
    return undefined;
  }
  return key;
}

async function readKeyFile(io: VerifyMeterCommandIo, path: string): Promise<string | undefined> {
  try {
    return await io.readFile(path);
  } catch (error) {
    io.stderr(`error: cannot read public key file ${path}: ${(error as Error).message}\n`);
    return undefined;
  }
}

function usageError(io: VerifyMeterCommandIo, message: string): number {
  io.stderr(`error: ${message}\n${USAGE}\n`);
  return INVALID_INPUT;
}
