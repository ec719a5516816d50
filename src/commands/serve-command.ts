import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { startServer } from '../main.ts';
import { formatSeedReport } from './format-seed-report.ts';

/** `voltbill serve`: runs until SIGINT/SIGTERM, then closes connections and flushes pending writes. */
export async function runServeCommand(argv: string[], io: CommandIo): Promise<number> {
  let seed = true;
  try {
    const { values } = parseArgs({ args: argv, options: { 'no-seed': { type: 'boolean' } }, strict: true });
    seed = !values['no-seed'];
  } catch (error) {
    io.stderr(`voltbill serve: ${(error as Error).message}\n`);
    return 2;
  }
  const config = loadConfig();
  const server = await startServer({ config, seed, command: 'serve' });
  const lines = [
    '',
    `Voltbill is running on ${server.database.kind === 'pglite' ? `the embedded database in ${server.database.location}` : server.database.location}`,
    `  OCPP endpoint   ${server.ocppUrl}/{stationId}   (OCPP 1.6J and 2.0.1)`,
    ...(server.ocppTlsUrl ? [`  OCPP over TLS   ${server.ocppTlsUrl}/{stationId}   (security profiles 2 and 3)`] : []),
    `  HTTP API        ${server.httpUrl}/api/v1   health ${server.httpUrl}/health   metrics ${server.httpUrl}/metrics`,
    `  Dashboard       ${server.httpUrl}/   API reference ${server.httpUrl}/api/docs`,
  ];
  if (server.seeded) lines.push('', ...formatSeedReport(server.seeded, server.ocppUrl, server.httpUrl));
  io.stderr(`${lines.join('\n')}\n\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      io.stderr(`\n${signal}: shutting down\n`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await server.close();
  return 0;
}
