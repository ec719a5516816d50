/**
 * `voltbill price`: prices one session from files and prints the priced CDR as JSON on stdout.
 *
 *   voltbill price --tariff TARIFF.json (--cdr CDR.json | --session TIMELINE.json) --time-zone IANA_ZONE
 *                  [--rounding half-up|half-even] [--bill-suspended-evse-as-time]
 *
 * Exit codes (a contract other tools rely on): 0 priced; 2 invalid input or usage, with one line on stderr that
 * names the JSON path of the problem and the file, e.g.
 *   error: $.elements[0].price_components[0].price: expected a non-negative number (--tariff t.json)
 *
 * --cdr prints the input CDR with its priced fields (tariffs, total_*) replaced; --session prints a CDR built from
 * the timeline. Both add the voltbill_* keys of priced-session-json.ts. With --session, --time-zone may be omitted
 * when the timeline states its timeZone; when both are given they must name the same zone.
 */
import { parseArgs } from 'node:util';
import type { RoundingMode } from '../shared/decimal.ts';
import { readCdrDocument } from './parse-cdr-document.ts';
import { parseTariff } from './parse-tariff.ts';
import { readTimelineDocument } from './parse-timeline-document.ts';
import { priceSession } from './price-session.ts';
import { pricedSessionExtensions } from './priced-session-json.ts';
import type { PricingInput } from './pricing-input.ts';
import { JsonValueInvalid } from './read-json.ts';
import { zoneOffsetsFor } from './zone-offsets.ts';

export type PriceCommandIo = {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string>;
};

const USAGE = `usage: voltbill price --tariff TARIFF.json (--cdr CDR.json | --session TIMELINE.json) --time-zone IANA_ZONE
                      [--rounding half-up|half-even] [--bill-suspended-evse-as-time]`;

/** Exit code 2: the input or the command line is invalid (the message says where). */
const INVALID_INPUT = 2;

/** Runs the command; returns the exit code. Never throws for bad input. */
export async function runPriceCommand(argv: string[], io: PriceCommandIo): Promise<number> {
  let values: {
    tariff?: string;
    cdr?: string;
    session?: string;
    'time-zone'?: string;
    rounding?: string;
    'bill-suspended-evse-as-time'?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tariff: { type: 'string' },
        cdr: { type: 'string' },
        session: { type: 'string' },
        'time-zone': { type: 'string' },
        rounding: { type: 'string' },
        'bill-suspended-evse-as-time': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const tariffFile = values.tariff;
  if (tariffFile === undefined) return usageError(io, '--tariff is required');
  if ((values.cdr === undefined) === (values.session === undefined)) {
    return usageError(io, 'give exactly one of --cdr and --session');
  }
  const rounding = values.rounding ?? 'half-up';
  if (rounding !== 'half-up' && rounding !== 'half-even') {
    return usageError(io, `--rounding must be half-up or half-even, not '${rounding}'`);
  }

  const tariffJson = await readJson(io, tariffFile, '--tariff');
  if (!tariffJson.ok) return INVALID_INPUT;
  const tariff = parseTariff(tariffJson.value);
  if (!tariff.ok) return inputError(io, tariff.error.path, tariff.error.message, `--tariff ${tariffFile}`);

  const sessionFile = (values.cdr ?? values.session) as string;
  const sessionFlag = values.cdr !== undefined ? '--cdr' : '--session';
  const sessionJson = await readJson(io, sessionFile, sessionFlag);
  if (!sessionJson.ok) return INVALID_INPUT;

  let input: PricingInput;
  let document: Record<string, unknown> | undefined;
  let timeZone = values['time-zone'];
  try {
    if (values.cdr !== undefined) {
      const cdr = readCdrDocument(sessionJson.value);
      if (cdr.currency !== undefined && cdr.currency !== tariff.value.currency) {
        return inputError(
          io,
          '$.currency',
          `the CDR is in ${cdr.currency} but the tariff in ${tariff.value.currency}`,
          `--cdr ${sessionFile}`,
        );
      }
      input = cdr.input;
      document = { ...cdr.document };
    } else {
      const timeline = readTimelineDocument(sessionJson.value);
      if (timeline.timeZone !== undefined) {
        if (timeZone === undefined) {
          timeZone = timeline.timeZone;
        } else if (canonicalZone(timeZone) !== canonicalZone(timeline.timeZone)) {
          return inputError(
            io,
            '$.timeZone',
            `the timeline is in ${timeline.timeZone} but --time-zone says ${timeZone}`,
            `--session ${sessionFile}`,
          );
        }
      }
      input = { kind: 'timeline', timeline: timeline.timeline };
    }
  } catch (error) {
    if (error instanceof JsonValueInvalid) {
      return inputError(io, error.path, error.reason, `${sessionFlag} ${sessionFile}`);
    }
    throw error;
  }
  if (timeZone === undefined) {
    return usageError(io, "--time-zone is required: the location's IANA zone, e.g. Europe/Amsterdam");
  }

  const priced = priceSession(input, tariff.value, {
    timeZone,
    rounding: rounding as RoundingMode,
    billSuspendedEvseAsTime: values['bill-suspended-evse-as-time'] === true,
  });
  if (!priced.ok) {
    const error = priced.error;
    if ('path' in error) return inputError(io, error.path, error.message, `${sessionFlag} ${sessionFile}`);
    io.stderr(`error: --time-zone: ${error.message}\n`);
    return INVALID_INPUT;
  }
  const ocpi = priced.value.ocpi;
  // For a CDR, only the priced fields are replaced: its own timestamps, periods and other fields stay as given.
  const { start_date_time, end_date_time, currency, charging_periods, ...pricedFields } = ocpi;
  const output =
    document === undefined
      ? { ...ocpi, ...pricedSessionExtensions(priced.value) }
      : { ...document, ...pricedFields, ...pricedSessionExtensions(priced.value) };
  io.stdout(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

async function readJson(
  io: PriceCommandIo,
  file: string,
  flag: string,
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (error) {
    io.stderr(`error: ${flag} ${file}: cannot read the file (${(error as Error).message})\n`);
    return { ok: false };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    io.stderr(`error: $: not valid JSON (${(error as Error).message}) (${flag} ${file})\n`);
    return { ok: false };
  }
}

function canonicalZone(name: string): string {
  return zoneOffsetsFor(name)?.name ?? name;
}

function inputError(io: PriceCommandIo, path: string, message: string, source: string): number {
  io.stderr(`error: ${path}: ${message} (${source})\n`);
  return INVALID_INPUT;
}

function usageError(io: PriceCommandIo, message: string): number {
  io.stderr(`error: ${message}\n${USAGE}\n`);
  return INVALID_INPUT;
}
