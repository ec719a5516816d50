/**
 * The server of the benchmarks that run sessions (e2e, storage, gateway): startBenchServer's setup (src/load/bench-harness.ts) plus fraud limits raised
 * for the load fleet. Each load station has one id token and runs back-to-back sessions, so the default velocity
 * limit (VOLTBILL_VELOCITY_STARTS_PER_TOKEN_PER_HOUR = 6) would refuse every session after the sixth of a station
 * and the benchmark would measure refused Authorize requests instead of sessions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import type { BenchDatabase, BenchServer } from '../src/load/bench-harness.ts';
import { LOAD_TEST_LIMITS } from '../src/load/load-test-limits.ts';
import { provisionFleet } from '../src/load/provision-fleet.ts';
import { startServer } from '../src/main.ts';

/** The highest values the configuration accepts (config.ts): a load station may start up to 1,000 sessions/hour. */
export const LOAD_TEST_FRAUD_LIMITS: Readonly<Record<string, string>> = {
  VOLTBILL_VELOCITY_STARTS_PER_TOKEN_PER_HOUR: '1000',
  VOLTBILL_VELOCITY_STARTS_PER_CARD_PER_HOUR: '1000',
};

export async function startLoadBenchServer(database: BenchDatabase, stations: number): Promise<BenchServer> {
  const config = loadConfig({
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: '0',
    VOLTBILL_HTTP_PORT: '0',
    VOLTBILL_LOG_LEVEL: 'silent',
    ...LOAD_TEST_LIMITS,
    ...LOAD_TEST_FRAUD_LIMITS,
  });
  const dataDir = database.kind === 'pglite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'voltbill-bench-')) : undefined;
  const server = await startServer({
    config,
    seed: true,
    logger: pino({ level: 'silent' }),
    database: database.kind === 'postgres' ? database : { kind: 'pglite', dataDir: dataDir as string },
    command: 'bench',
  });
  await provisionFleet(server.database.db, { stations, firstStation: 1, stationPrefix: 'LOAD-', idTagPrefix: 'LT' });
  return {
    server,
    async close() {
      await server.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The URL the server under test uses: TCP on 127.0.0.1 (the default), or with `--unix-socket` the server's Unix
 * domain socket (test/support/postgres-server.ts puts it in the data folder's parent), which is how a node on the
 * same host as its PostgreSQL is best connected: every statement costs the node a socket write, and a Unix socket
 * write is much cheaper than a TCP loopback one (profiles: writev was the largest self time on the stop path).
 */
export function benchDatabaseUrl(postgres: { url: string; dataDir: string }, unixSocket: boolean): string {
  if (!unixSocket) return postgres.url;
  const port = new URL(postgres.url).port;
  return `postgres://postgres@localhost/postgres?host=${encodeURIComponent(path.dirname(postgres.dataDir))}&port=${port}`;
}
