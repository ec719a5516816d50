/**
 * `voltbill simulate`: parses the arguments, runs the simulation with a progress bar on a terminal, prints the
 * summary (a table, or JSON with --json) and returns the exit status: 0 when every session completed or was refused
 * by the CSMS, 1 when any failed (or a station could not connect), 2 on invalid arguments. Ctrl-C stops the run
 * cleanly: running transactions are stopped and the summary is still printed.
 */
import { readFile } from 'node:fs/promises';
import { formatSummary } from './format-summary.ts';
import { parseSimulateArgs, SIMULATE_USAGE } from './parse-simulate-args.ts';
import { createProgressBar, type ProgressBar } from './progress-bar.ts';
import { runSimulation } from './simulate.ts';
import type { SimTlsOptions } from './station-connection.ts';
import type { SimulationSummary } from './summary.ts';

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal: the progress bar is drawn only then. */
  readonly isTTY: boolean;
}

export async function runSimulateCommand(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseSimulateArgs(argv);
  if (!parsed.ok) {
    io.stderr(`voltbill simulate: ${parsed.error.message}\nRun 'voltbill simulate --help' for the options.\n`);
    return 2;
  }
  if (parsed.value.help) {
    io.stdout(SIMULATE_USAGE);
    return 0;
  }
  const { json, quiet, tlsFiles } = parsed.value;
  let options = parsed.value.options;
  if (tlsFiles !== undefined) {
    try {
      options = { ...options, tls: await readTlsFiles(tlsFiles) };
    } catch (error) {
      io.stderr(`voltbill simulate: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const sessionsPlanned = options.stations * options.sessionsPerStation;
  const bar: ProgressBar | null =
    io.isTTY && !quiet && !json ? createProgressBar(io.stderr, sessionsPlanned, process.stderr.columns) : null;
  const log = (line: string): void => {
    if (quiet) return;
    if (bar !== null) bar.log(line);
    else io.stderr(`${line}\n`);
  };
  const stop = new AbortController();
  const onInterrupt = (): void => {
    log('interrupted: stopping running sessions');
    stop.abort();
  };
  process.once('SIGINT', onInterrupt);
  let summary: SimulationSummary;
  try {
    summary = await runSimulation(
      { ...options, signal: stop.signal },
      { log, ...(bar !== null && { onProgress: (progress) => bar.update(progress) }) },
    );
  } catch (error) {
    bar?.stop();
    io.stderr(`voltbill simulate: ${(error as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  bar?.stop();
  io.stdout(json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  return exitStatusOf(summary);
}

async function readTlsFiles(files: { ca?: string; cert?: string; key?: string }): Promise<SimTlsOptions> {
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as Error).message}`);
    }
  };
  return {
    ...(files.ca !== undefined && { ca: await read(files.ca) }),
    ...(files.cert !== undefined && { cert: await read(files.cert) }),
    ...(files.key !== undefined && { key: await read(files.key) }),
  };
}

/** 0 when every session completed or was refused by the CSMS; 1 when any failed or a station never connected. */
export function exitStatusOf(summary: SimulationSummary): number {
  return summary.sessions.failed === 0 && summary.stations.failed === 0 ? 0 : 1;
}
