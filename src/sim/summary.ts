/** The result of a simulation run: counters, acknowledgement latencies and one record per session. */
import { errorCount, type RunStats } from './run-stats.ts';
import type { SessionRecord } from './session-record.ts';

export interface SimulationSummary {
  readonly url: string;
  readonly seed: number;
  readonly speedFactor: number;
  readonly stations: { readonly planned: number; readonly connected: number; readonly failed: number };
  readonly boots: { readonly accepted: number; readonly pending: number; readonly rejected: number };
  readonly sessions: {
    readonly planned: number;
    readonly started: number;
    readonly completed: number;
    readonly refused: number;
    readonly failed: number;
    /** Sessions the CSMS started with RemoteStartTransaction (counted in completed/refused/failed too). */
    readonly remote: number;
  };
  /** Energy of all sessions (meterStop − meterStart), in Wh. */
  readonly energyWh: number;
  /** The same energy in kWh as an exact decimal string ("123.456"). */
  readonly energyKwh: string;
  readonly messages: {
    /** Call attempts sent to the CSMS, retries included. */
    readonly sent: number;
    readonly retries: number;
    /** Messages given up (see the outbox's rules). */
    readonly dropped: number;
    /** Calls the CSMS made to the stations. */
    readonly received: number;
  };
  /** CALLERROR answers by OCPP error code. */
  readonly callErrors: Readonly<Record<string, number>>;
  readonly transport: { readonly timeouts: number; readonly connectionFailures: number; readonly disconnects: number };
  /** Time from sending a call to its answer, in ms (within 1 %); null when no call was answered. */
  readonly ackLatencyMs: {
    readonly count: number;
    readonly p50: number | null;
    readonly p95: number | null;
    readonly p99: number | null;
    readonly max: number | null;
  };
  readonly wallTimeMs: number;
  /** Where the simulated clock started and where it stood at the end, ISO 8601 UTC. */
  readonly simulatedFrom: string;
  readonly simulatedTo: string;
  readonly sessionRecords: readonly SessionRecord[];
}

/** What `onProgress` reports while a run is going. */
export interface SimulationProgress {
  readonly stationsConnected: number;
  readonly sessionsPlanned: number;
  /** Planned sessions with a final status. */
  readonly sessionsDone: number;
  readonly messagesSent: number;
  /** Failed calls: CALLERRORs, timeouts and calls lost with the connection. */
  readonly errors: number;
}

export function progressOf(stats: RunStats, sessionsPlanned: number): SimulationProgress {
  return {
    stationsConnected: stats.stationsConnected,
    sessionsPlanned,
    sessionsDone: stats.plannedSessionsSettled,
    messagesSent: stats.messagesSent,
    errors: errorCount(stats),
  };
}

export interface SummaryInput {
  readonly url: string;
  readonly seed: number;
  readonly speedFactor: number;
  readonly stationsPlanned: number;
  readonly sessionsPlanned: number;
  readonly stats: RunStats;
  readonly records: readonly SessionRecord[];
  readonly wallTimeMs: number;
  readonly simulatedFromMs: number;
  readonly simulatedToMs: number;
}

export function buildSummary(input: SummaryInput): SimulationSummary {
  const { stats, records } = input;
  const energyWh = records.reduce((total, record) => total + (record.meterStopWh - record.meterStartWh), 0);
  const round = (value: number | null): number | null => (value === null ? null : Math.round(value * 100) / 100);
  return {
    url: input.url,
    seed: input.seed,
    speedFactor: input.speedFactor,
    stations: { planned: input.stationsPlanned, connected: stats.stationsConnected, failed: stats.stationsFailed },
    boots: { accepted: stats.bootsAccepted, pending: stats.bootsPending, rejected: stats.bootsRejected },
    sessions: {
      planned: input.sessionsPlanned,
      started: stats.sessionsStarted,
      completed: records.filter((record) => record.status === 'completed').length,
      refused: records.filter((record) => record.status === 'refused').length,
      failed: records.filter((record) => record.status === 'failed').length,
      remote: records.filter((record) => record.origin === 'remote').length,
    },
    energyWh,
    energyKwh: formatKwh(energyWh),
    messages: {
      sent: stats.messagesSent,
      retries: stats.retries,
      dropped: stats.dropped,
      received: stats.callsReceived,
    },
    callErrors: Object.fromEntries([...stats.callErrors.entries()].sort(([a], [b]) => a.localeCompare(b))),
    transport: {
      timeouts: stats.timeouts,
      connectionFailures: stats.connectionFailures,
      disconnects: stats.disconnects,
    },
    ackLatencyMs: {
      count: stats.ackLatency.count,
      p50: round(stats.ackLatency.percentileMs(50)),
      p95: round(stats.ackLatency.percentileMs(95)),
      p99: round(stats.ackLatency.percentileMs(99)),
      max: round(stats.ackLatency.maxMs),
    },
    wallTimeMs: Math.round(input.wallTimeMs),
    simulatedFrom: new Date(input.simulatedFromMs).toISOString(),
    simulatedTo: new Date(input.simulatedToMs).toISOString(),
    sessionRecords: records,
  };
}

/** Whole Wh as an exact kWh decimal with three places: 1234567 → "1234.567". */
export function formatKwh(energyWh: number): string {
  const sign = energyWh < 0 ? '-' : '';
  const absoluteWh = Math.abs(energyWh);
  return `${sign}${Math.floor(absoluteWh / 1000)}.${String(absoluteWh % 1000).padStart(3, '0')}`;
}
