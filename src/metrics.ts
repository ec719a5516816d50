/** Prometheus metrics of one Voltbill node, served at /metrics. Each instance owns its registry (tests run many). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'voltbill_' });
  return {
    registry,
    connectedStations: new Gauge({
      name: 'voltbill_ocpp_connected_stations',
      help: 'Stations with an open OCPP connection to this node',
      registers: [registry],
    }),
    messages: new Counter({
      name: 'voltbill_ocpp_messages_total',
      help: 'OCPP frames by direction and action',
      labelNames: ['direction', 'action'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'voltbill_ocpp_errors_total',
      help: 'OCPP CALLERRORs sent to stations, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    handlerSeconds: new Histogram({
      name: 'voltbill_ocpp_handler_seconds',
      help: 'Time from receiving an OCPP call to sending its reply, including durable storage',
      labelNames: ['action'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    sessionsStarted: new Counter({
      name: 'voltbill_sessions_started_total',
      help: 'Charging sessions started',
      registers: [registry],
    }),
    sessionsEnded: new Counter({
      name: 'voltbill_sessions_ended_total',
      help: 'Charging sessions ended, by billing outcome',
      labelNames: ['billing'] as const,
      registers: [registry],
    }),
    reconcileClean: new Gauge({
      name: 'voltbill_reconcile_clean',
      help: 'Last reconciliation run: 1 clean, 0 differences found (no sample before the first run)',
      registers: [registry],
    }),
    reconcileDifferences: new Gauge({
      name: 'voltbill_reconcile_differences',
      help: 'Differences found by the last reconciliation run, per check',
      labelNames: ['check'] as const,
      registers: [registry],
    }),
    reconcileLastRunSeconds: new Gauge({
      name: 'voltbill_reconcile_last_run_timestamp_seconds',
      help: 'Start of the last reconciliation run (Unix time)',
      registers: [registry],
    }),
    reconcileDurationSeconds: new Gauge({
      name: 'voltbill_reconcile_duration_seconds',
      help: 'Duration of the last reconciliation run',
      registers: [registry],
    }),
    unknownTransactions: new Counter({
      name: 'voltbill_ocpp_unknown_transaction_total',
      help: 'Messages naming a transaction the station never received (answered, never billed)',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
  };
}
