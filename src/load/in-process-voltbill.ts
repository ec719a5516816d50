/**
 * Voltbill started inside the load command's process, for `voltbill load` without --url: on DATABASE_URL when the
 * environment sets it, else on an embedded database in memory; demo data seeded and the load fleet registered.
 */
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { type RunningServer, startServer } from '../main.ts';
import { LOAD_TEST_LIMITS } from './load-test-limits.ts';
import { type FleetSpec, provisionFleet } from './provision-fleet.ts';

export async function startInProcessVoltbill(
  env: Record<string, string | undefined>,
  fleet: FleetSpec,
): Promise<RunningServer> {
  const config = loadConfig({
    ...LOAD_TEST_LIMITS,
    ...env,
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: '0',
    VOLTBILL_HTTP_PORT: '0',
    VOLTBILL_LOG_LEVEL: env.VOLTBILL_LOG_LEVEL ?? 'error',
  });
  const server = await startServer({
    config,
    seed: true,
    logger: pino({ level: config.logLevel }),
    database: config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl }
      : { kind: 'pglite', dataDir: 'memory' },
    command: 'load',
  });
  try {
    await provisionFleet(server.database.db, fleet);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
