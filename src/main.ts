/**
 * Composition root: reads nothing itself but the Config it is given, builds every dependency and starts the OCPP
 * gateway and the HTTP API. `voltbill serve` and `voltbill demo` both start Voltbill through here.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from './api/build-app.ts';
import { closeApp } from './api/close-app.ts';
import { invoiceBillingHook } from './billing/invoices/invoice-hook.ts';
import { resolveNodeId } from './cluster/node-id.ts';
import { type Cluster, startCluster } from './cluster/start-cluster.ts';
import { type Config, ConfigError } from './config.ts';
import { createFieldCipher } from './crypto/field-cipher.ts';
import { loadMasterKeyring } from './crypto/master-keyring.ts';
import { BatchWriter } from './db/batch-writer.ts';
import { migrateToLatest } from './db/migrate.ts';
import { type DatabaseHandle, openDatabase } from './db/open-database.ts';
import { ledgerBillingHook } from './ledger/session-posting.ts';
import { plausibilityConfigFrom } from './metering/plausibility/plausibility-config.ts';
import { createMetrics } from './metrics.ts';
import { type CommandGateway, runCommand } from './ocpp/commands/run-command.ts';
import type { Gateway } from './ocpp/gateway.ts';
import { createMessageLog } from './ocpp/message-log.ts';
import { startOcpp } from './ocpp/start-ocpp.ts';
import { createPaymentsRuntime, type PaymentsRuntime } from './payments/payments-runtime.ts';
import type { PaymentProvider } from './payments/provider.ts';
import { seedDemoPayments } from './payments/seed-demo-payments.ts';
import { registerOutboxMetrics } from './payments/worker/outbox-metrics.ts';
import { startReconcileJob } from './reconcile/reconcile-job.ts';
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
  /** Tests: a payment provider built by the test (e.g. a SANDBOX with fault injection). */
  readonly paymentProvider?: PaymentProvider;
  /** Tests drive the payment worker themselves (runUntilIdle) when this is false. */
  readonly startPaymentWorker?: boolean;
};

export type RunningServer = {
  readonly database: DatabaseHandle;
  readonly gateway: Gateway;
  readonly app: FastifyInstance;
  readonly ocppPort: number;
  readonly httpPort: number;
  readonly ocppUrl: string;
  /** The wss:// endpoint (security profiles 2 and 3), when VOLTBILL_OCPP_TLS_PORT is set. */
  readonly ocppTlsUrl: string | undefined;
  readonly httpUrl: string;
  readonly seeded: SeedReport | undefined;
  /** Card payments: provider, worker, webhooks (SANDBOX unless Stripe is configured). */
  readonly payments: PaymentsRuntime;
  /** Multi-node membership on PostgreSQL (src/cluster/); undefined on the embedded database (one node). */
  readonly cluster: Cluster | undefined;
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
      ? { ...target, namedStatements: config.databasePreparedStatements, maxConnections: config.databasePoolSize }
      : { kind: 'pglite', dataDir: target.dataDir, command: options.command ?? 'serve' },
  );
  let cluster: Cluster | undefined;
  try {
    const migrations = await migrateToLatest(database.db);
    if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, 'database migrated');
    // Encryption keys: master key from VOLTBILL_MASTER_KEY or the key file (generated on first start).
    const cipher = await createFieldCipher(database.db, () => loadMasterKeyring(config, clock.now()));
    const seeded = options.seed
      ? await seedDemo(database.db, config.rounding, { cipher, now: clock.now() })
      : undefined;

    const metrics = createMetrics();
    const messageLog = createMessageLog(database.db);
    const sampleWriter = new BatchWriter<SampleRow>((rows) => insertSamples(database.db, rows), {
      maxBatchItems: SAMPLE_BATCH_ROWS,
      maxQueuedItems: SAMPLE_BATCH_ROWS * 50,
    });
    registerOutboxMetrics(metrics.registry, database.db, logger);
    const payments = createPaymentsRuntime({
      config,
      db: database.db,
      clock,
      logger,
      ...(target.kind === 'pglite' && target.dataDir !== 'memory' && { sandboxDir: target.dataDir }),
      ...(options.paymentProvider && { provider: options.paymentProvider }),
      cipher,
    });
    // Invoice first, so that the session's ledger transfer can name its invoice; payments last (they capture it).
    const billingHooks = [invoiceBillingHook, ledgerBillingHook, payments.billingHook];
    const plausibility = plausibilityConfigFrom(config.plausibility);
    if (!plausibility.ok) throw new ConfigError(plausibility.error);
    const sessions = createSessionService({
      db: database.db,
      clock,
      logger,
      sampleWriter,
      maxSamplesPerSession: config.maxSamplesPerSession,
      billingHooks,
      plausibility: plausibility.value,
      paymentAuthorizer: payments.authorizer,
    });
    // On PostgreSQL the node joins the cluster before its gateway accepts stations, so that no presence is missed.
    if (target.kind === 'postgres') {
      cluster = await startCluster({
        db: database.db,
        url: config.databaseListenUrl ?? target.url,
        nodeId: resolveNodeId(config.nodeId),
        heartbeatS: config.clusterHeartbeatS,
        nodeTtlS: config.clusterNodeTtlS,
        callTimeoutMs: config.ocppCallTimeoutMs,
        logger,
      });
    }
    const ocpp = await startOcpp({
      db: database.db,
      clock,
      logger,
      metrics,
      messageLog,
      sessions,
      config,
      ...(cluster && { presence: cluster.presence, claimJobRun: cluster.claimJobRun }),
    });
    const { gateway, port: ocppPort, tlsPort: ocppTlsPort } = ocpp;
    // Commands reach a station on this node directly, or (cluster) through the node that holds it.
    const localCommands = { db: database.db, gateway };
    cluster?.attach({
      gateway,
      runLocal: (stationId, command, input) => runCommand(localCommands, stationId, command, input),
    });
    const commandGateway: CommandGateway = cluster
      ? { ...pickCommandGateway(gateway), forward: cluster.forward }
      : gateway;
    const app = await buildApp({
      db: database.db,
      clock,
      logger,
      metrics,
      connectedStations: cluster ? cluster.connectedStations : gateway.connectedStations,
      stationGateway: commandGateway,
      billingHooks,
      cipher,
      security: config,
      payments,
    });
    await app.listen({ port: config.httpPort, host: config.host });
    payments.remoteStart = async ({ stationId, evseId, idTag }) => {
      const outcome = await runCommand({ db: database.db, gateway: commandGateway }, stationId, 'remote-start', {
        evseId,
        idTag,
      });
      return { accepted: outcome.ok && outcome.accepted };
    };
    // A wallet session whose running cost reaches the balance is stopped through the same command path.
    payments.remoteStop = async ({ stationId, transactionId }) => {
      const outcome = await runCommand({ db: database.db, gateway: commandGateway }, stationId, 'remote-stop', {
        transactionId,
      });
      return { accepted: outcome.ok && outcome.accepted };
    };
    const reconcileJob =
      config.reconcileIntervalS > 0
        ? startReconcileJob({
            db: database.db,
            clock,
            logger,
            metrics,
            intervalMs: config.reconcileIntervalS * 1000,
            ...(cluster && { claimRun: cluster.claimJobRun }),
          })
        : undefined;
    const address = app.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    payments.connectWebhooks(`http://${shownHost}:${httpPort}`);
    // Demo payment customers (saved SANDBOX cards, a wallet, an ad-hoc hold) for `demo` and `serve`, never in tests.
    if (seeded && options.command !== 'test') await seedDemoPayments(payments, seeded);
    payments.publicBaseUrl = config.publicUrl ?? `http://${shownHost}:${httpPort}`;
    if (options.startPaymentWorker !== false) {
      payments.worker.start(config.payments.workerIntervalMs);
      payments.notifications?.start(config.payments.workerIntervalMs);
    }
    let closed = false;
    return {
      database,
      gateway,
      app,
      ocppPort,
      httpPort,
      ocppUrl: `ws://${shownHost}:${ocppPort}/ocpp`,
      ocppTlsUrl: ocppTlsPort === undefined ? undefined : `wss://${shownHost}:${ocppTlsPort}/ocpp`,
      httpUrl: config.publicUrl ?? `http://${shownHost}:${httpPort}`,
      seeded,
      payments,
      cluster,
      async close() {
        if (closed) return;
        closed = true;
        await payments.close();
        await reconcileJob?.stop();
        // The node leaves the cluster first (its presence rows go in one statement, other nodes stop sending it
        // commands), then closes its stations' sockets so that they reconnect to the other nodes.
        await cluster?.close();
        await ocpp.close();
        await closeApp(app);
        await sampleWriter.flush();
        await sessions.flush();
        await messageLog.flush();
        await payments.authorizer.flush();
        await database.close();
      },
    };
  } catch (error) {
    await cluster?.close();
    await database.close();
    throw error;
  }
}

function pickCommandGateway(gateway: Gateway): CommandGateway {
  return {
    call: (stationId, method, params) => gateway.call(stationId, method, params),
    protocolOf: gateway.protocolOf,
  };
}
