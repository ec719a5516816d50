/**
 * `voltbill load`: parses the arguments, starts Voltbill in-process unless --url names a server, runs the load and
 * prints the report (a table, or JSON with --json). Exit status: 0 when no call failed, 1 when any did (or a
 * station never came online, or after a reconnect storm a station did not boot again or had a boot refused), 2 on
 * invalid arguments.
 */
import { readFile } from 'node:fs/promises';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/open-database.ts';
import { startInProcessVoltbill } from '../load/in-process-voltbill.ts';
import type { TlsOptions } from '../load/lean-connection.ts';
import { LOAD_DEFAULTS } from '../load/load-options.ts';
import { formatLoadReport, type LoadReport, loadRunPassed } from '../load/load-report.ts';
import { LOAD_USAGE, parseLoadArgs } from '../load/parse-load-args.ts';
import { provisionFleet } from '../load/provision-fleet.ts';
import { runLoad } from '../load/run-load.ts';
import type { RunningServer } from '../main.ts';

export async function runLoadCommand(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseLoadArgs(argv);
  if (!parsed.ok) {
    io.stderr(`voltbill load: ${parsed.error.message}\nRun 'voltbill load --help' for the options.\n`);
    return 2;
  }
  if (parsed.value.help) {
    io.stdout(LOAD_USAGE);
    return 0;
  }
  const { options, json, quiet } = parsed.value;
  const log = (line: string): void => {
    if (!quiet) io.stderr(`${line}\n`);
  };
  let tls: TlsOptions | undefined;
  try {
    tls = await readTlsFiles(parsed.value);
  } catch (error) {
    io.stderr(`voltbill load: ${(error as Error).message}\n`);
    return 2;
  }
  const fleet = {
    stations: options.stations,
    firstStation: options.firstStation ?? LOAD_DEFAULTS.firstStation,
    stationPrefix: options.stationPrefix ?? LOAD_DEFAULTS.stationPrefix,
    idTagPrefix: options.idTagPrefix ?? LOAD_DEFAULTS.idTagPrefix,
  };
  let server: RunningServer | undefined;
  let url = options.url;
  if (url === undefined) {
    server = await startInProcessVoltbill(process.env, fleet);
    url = server.ocppUrl;
    log(
      `Voltbill started in-process on ${server.database.kind === 'pglite' ? 'embedded PGlite (memory)' : server.database.location}`,
    );
  } else if (parsed.value.provision) {
    const config = loadConfig();
    if (!config.databaseUrl) {
      io.stderr('voltbill load: --provision needs DATABASE_URL\n');
      return 2;
    }
    const database = await openDatabase({
      kind: 'postgres',
      url: config.databaseUrl,
      maxConnections: 2,
      namedStatements: config.databasePreparedStatements,
    });
    try {
      await provisionFleet(database.db, fleet);
    } finally {
      await database.close();
    }
  }
  const stop = new AbortController();
  const onInterrupt = (): void => {
    log('interrupted: ending sessions');
    stop.abort();
  };
  process.once('SIGINT', onInterrupt);
  let report: LoadReport;
  try {
    report = await runLoad(
      { ...options, url, ...(tls && { tls }), signal: stop.signal },
      {
        log,
        onProgress: (progress) => {
          if (quiet || json || Math.round(progress.elapsedS) % 5 !== 0) return;
          log(
            `${progress.elapsedS.toFixed(0)} s: ${progress.stationsOnline} online, ${progress.callsAcked} acknowledged, ` +
              `${progress.errors} errors, ${progress.sessionsCompleted} sessions`,
          );
        },
      },
    );
  } finally {
    process.off('SIGINT', onInterrupt);
    await server?.close();
  }
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatLoadReport(report)}\n`);
  return loadRunPassed(report) ? 0 : 1;
}

async function readTlsFiles(args: {
  caFile: string | undefined;
  clientCertFile: string | undefined;
  clientKeyFile: string | undefined;
}): Promise<TlsOptions | undefined> {
  if (!args.caFile && !args.clientCertFile) return undefined;
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new Error(`cannot read the ${what} ${file}: ${(error as Error).message}`);
    }
  };
  return {
    ...(args.caFile && { ca: await read(args.caFile, 'CA certificate') }),
    ...(args.clientCertFile && { cert: await read(args.clientCertFile, 'client certificate') }),
    ...(args.clientKeyFile && { key: await read(args.clientKeyFile, 'client key') }),
  };
}
