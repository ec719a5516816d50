/** Counters every station of a run adds to; read for the progress bar and the summary. */
import { createLatencyHistogram, type LatencyHistogram } from './latency-histogram.ts';

export interface RunStats {
  stationsConnected: number;
  stationsFailed: number;
  bootsAccepted: number;
  bootsPending: number;
  bootsRejected: number;
  /** Every call attempt sent to the CSMS, retries included. */
  messagesSent: number;
  /** Calls the CSMS made to the stations. */
  callsReceived: number;
  /** Attempts after the first for the same message. */
  retries: number;
  /** CALLERROR replies by OCPP error code. */
  readonly callErrors: Map<string, number>;
  timeouts: number;
  /** Calls that failed because the connection was lost or not open. */
  connectionFailures: number;
  /** Messages given up: non-transaction messages that failed, transaction messages past their attempt limit. */
  dropped: number;
  /** Connections lost after they had been open. */
  disconnects: number;
  /** StartTransactions queued. */
  sessionsStarted: number;
  sessionsCompleted: number;
  sessionsRefused: number;
  sessionsFailed: number;
  /** Planned sessions with a final status (remote-started ones are not planned). */
  plannedSessionsSettled: number;
  readonly ackLatency: LatencyHistogram;
}

export function createRunStats(): RunStats {
  return {
    stationsConnected: 0,
    stationsFailed: 0,
    bootsAccepted: 0,
    bootsPending: 0,
    bootsRejected: 0,
    messagesSent: 0,
    callsReceived: 0,
    retries: 0,
    callErrors: new Map(),
    timeouts: 0,
    connectionFailures: 0,
    dropped: 0,
    disconnects: 0,
    sessionsStarted: 0,
    sessionsCompleted: 0,
    sessionsRefused: 0,
    sessionsFailed: 0,
    plannedSessionsSettled: 0,
    ackLatency: createLatencyHistogram(),
  };
}

export function countCallError(stats: RunStats, code: string): void {
  stats.callErrors.set(code, (stats.callErrors.get(code) ?? 0) + 1);
}

/** All failed calls: CALLERRORs, timeouts and calls lost with the connection. */
export function errorCount(stats: RunStats): number {
  let total = stats.timeouts + stats.connectionFailures;
  for (const count of stats.callErrors.values()) total += count;
  return total;
}
