/**
 * Composition root: reads nothing itself but the Config it is given, builds every dependency and starts the OCPP
 * gateway and the HTTP API. `voltbill serve` and `voltbill demo` both start Voltbill through here.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from './api/build-app.ts';
import type { Config } from './config.ts';
import { BatchWriter } from './db/batch-writer.ts';
import { migrateToLatest } from './db/migrate.ts';
import { type DatabaseHandle, openDatabase } from './db/open-database.ts';
import { createMetrics } from './metrics.ts';
import { createGateway, type Gateway } from './ocpp/gateway.ts';
import { createMessageLog } from './ocpp/message-log.ts';
import { createV16Handlers } from './ocpp/v16/handlers.ts';
import { type SeedReport, seedDemo } from './seed/seed-demo.ts';
import { createSessionService } from './sessions/session-service.ts';
import { insertSamples, type SampleRow } from './sessions/session-store.ts';
import { type Clock, systemClock } from './shared/clock.ts';

export type ServerOptions = {
  readonly config: Config;
  readonly seed: boolean;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** 'memory' for a throwaway embedded database (tests); otherwise config decides. */
  readonly database?: { kind: 'pglite'; dataDir: string | 'memory' } | { kind: 'postgres'; url: string };
  readonly command?: string;
};

export type RunningServer = {
  readonly database: DatabaseHandle;
  readonly gateway: Gateway;
  readonly app: FastifyInstance;
  readonly ocppPort: number;
  readonly httpPort: number;
  readonly ocppUrl: string;
  readonly httpUrl: string;
  readonly seeded: SeedReport | undefined;
  close(): Promise<void>;
};

/** Meter samples per database write; larger batches amortize the commit, smaller ones bound its latency. */
const SAMPLE_BATCH_ROWS = 2000;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? pino({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const target =
    options.database ??
    (config.databaseUrl
      ? { kind: 'postgres' as const, url: config.databaseUrl }
      : { kind: 'pglite' as const, dataDir: config.dataDir });
  const database = await openDatabase(
    target.kind === 'postgres'
      ? target
      : { kind: 'pglite', dataDir: target.dataDir, command: options.command ?? 'serve' },
  );
  try {
    const migrations = await migrateToLatest(database.db);
    if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, 'database migrated');
    const seeded = options.seed ? await seedDemo(database.db, config.rounding) : undefined;

    const metrics = createMetrics();
    const messageLog = createMessageLog(database.db);
    const sampleWriter = new BatchWriter<SampleRow>((rows) => insertSamples(database.db, rows), {
      maxBatchItems: SAMPLE_BATCH_ROWS,
      maxQueuedItems: SAMPLE_BATCH_ROWS * 50,
    });
    const sessions = createSessionService({
      db: database.db,
      clock,
      logger,
      sampleWriter,
      maxSamplesPerSession: config.maxSamplesPerSession,
    });
    const gateway = createGateway({
      db: database.db,
      clock,
      logger,
      metrics,
      messageLog,
      v16Handlers: createV16Handlers({
        db: database.db,
        clock,
        logger,
        metrics,
        sessions,
        heartbeatIntervalS: config.heartbeatIntervalS,
        autoRegisterStations: config.autoRegisterStations,
      }),
      limits: {
        maxFrameBytes: config.ocppMaxFrameBytes,
        maxBadMessages: config.ocppMaxBadMessages,
        callTimeoutMs: config.ocppCallTimeoutMs,
      },
    });
    const ocppPort = await gateway.listen(config.ocppPort, config.host);
    const app = await buildApp({
      db: database.db,
      clock,
      logger,
      metrics,
      connectedStations: gateway.connectedStations,
    });
    await app.listen({ port: config.httpPort, host: config.host });
    const address = app.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    let closed = false;
    return {
      database,
      gateway,
      app,
      ocppPort,
      httpPort,
      ocppUrl: `ws://${shownHost}:${ocppPort}/ocpp`,
      httpUrl: config.publicUrl ?? `http://${shownHost}:${httpPort}`,
      seeded,
      async close() {
        if (closed) return;
        closed = true;
        await gateway.close();
        await app.close();
        await sampleWriter.flush();
        await messageLog.flush();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
