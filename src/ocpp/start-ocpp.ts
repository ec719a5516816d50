/**
 * Builds the OCPP side of a node from its configuration: the 1.6J and 2.0.1 adapters, the gateway with its
 * security settings and limits, the plain and (when configured) TLS endpoints, and the sweep that ends 2.0.1
 * transactions whose missing events never came. main.ts calls this once.
 */
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { Clock } from '../shared/clock.ts';
import { createEvseStatusWriter } from '../stations/evse-status-writer.ts';
import { createLastSeenWriter } from '../stations/last-seen-writer.ts';
import { createGateway, type Gateway, type StationPresenceHooks } from './gateway.ts';
import type { MessageLog } from './message-log.ts';
import { createV16Handlers } from './v16/handlers.ts';
import { createV201Handlers } from './v201/handlers.ts';
import { sweepOverdueEnds } from './v201/sweep-overdue-ends.ts';
import { createReadingEventWriters } from './v201/transaction-event-store.ts';

export type OcppDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly messageLog: MessageLog;
  readonly sessions: SessionService;
  readonly config: Config;
  /** Cluster (PostgreSQL): station presence, and the claim that makes the overdue sweep run on one node. */
  readonly presence?: StationPresenceHooks;
  readonly claimJobRun?: (job: string, periodMs: number) => Promise<boolean>;
};

export type RunningOcpp = {
  readonly gateway: Gateway;
  readonly port: number;
  /** Port of the wss:// endpoint, when TLS is configured. */
  readonly tlsPort: number | undefined;
  close(): Promise<void>;
};

export async function startOcpp(deps: OcppDeps): Promise<RunningOcpp> {
  const { db, clock, logger, metrics, sessions, config } = deps;
  const lastSeen = createLastSeenWriter(db, logger);
  const evseStatus = createEvseStatusWriter(db);
  const readingWriters = createReadingEventWriters(db, clock);
  const common = {
    lastSeen,
    evseStatus,
    db,
    clock,
    logger,
    metrics,
    sessions,
    heartbeatIntervalS: config.heartbeatIntervalS,
    autoRegisterStations: config.autoRegisterStations,
  };
  const tls =
    config.ocppTlsPort !== undefined
      ? {
          cert: readPem(config.ocppTlsCert, 'VOLTBILL_OCPP_TLS_CERT'),
          key: readPem(config.ocppTlsKey, 'VOLTBILL_OCPP_TLS_KEY'),
          ...(config.ocppTlsCa && { ca: readPem(config.ocppTlsCa, 'VOLTBILL_OCPP_TLS_CA') }),
        }
      : undefined;
  const gateway = createGateway({
    db,
    clock,
    logger,
    metrics,
    messageLog: deps.messageLog,
    v16Handlers: createV16Handlers(common),
    v201Handlers: createV201Handlers({
      ...common,
      costUpdateIntervalS: config.ocppCostUpdateIntervalS,
      readingWriters,
    }),
    minSecurityProfile: config.ocppMinSecurityProfile,
    ...(tls && { tls }),
    ...(deps.presence && { presence: deps.presence }),
    limits: {
      maxFrameBytes: config.ocppMaxFrameBytes,
      maxBadMessages: config.ocppMaxBadMessages,
      callTimeoutMs: config.ocppCallTimeoutMs,
      maxMessagesPerSecond: config.ocppMaxMessagesPerS,
      maxPendingConnectionsPerAddress: config.ocppMaxPendingConnectionsPerIp,
      maxAuthFailuresPerStation: config.ocppMaxAuthFailuresPerStation,
      maxAuthFailuresPerAddress: config.ocppMaxAuthFailuresPerIp,
      authFailureWindowMs: config.ocppAuthFailureWindowS * 1000,
    },
  });
  const port = await gateway.listen(config.ocppPort, config.host);
  const tlsPort =
    config.ocppTlsPort !== undefined ? await gateway.listenTls(config.ocppTlsPort, config.host) : undefined;

  const gapWaitMs = config.ocppTxGapWaitS * 1000;
  let sweeping = false;
  const sweepPeriodMs = Math.min(60_000, Math.max(1000, gapWaitMs / 4));
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    // On a cluster one node per period sweeps (the sweep is idempotent, but N nodes would do N times the work).
    const claimed = deps.claimJobRun ? deps.claimJobRun('ocpp-overdue-ends', sweepPeriodMs) : Promise.resolve(true);
    claimed
      .then((won) => (won ? sweepOverdueEnds({ db, clock, logger, sessions }, gapWaitMs) : 0))
      .catch((error) => logger.error({ err: error }, 'sweep of overdue OCPP 2.0.1 transactions failed'))
      .finally(() => {
        sweeping = false;
      });
  }, sweepPeriodMs);
  sweep.unref();
  return {
    gateway,
    port,
    tlsPort,
    async close() {
      clearInterval(sweep);
      await gateway.close();
      await lastSeen.close();
      await evseStatus.flush();
      await readingWriters.flush();
    },
  };
}

function readPem(file: string | undefined, variable: string): string {
  if (!file) throw new Error(`${variable} must be set when VOLTBILL_OCPP_TLS_PORT is`);
  return readFileSync(file, 'utf8');
}
