/** Counters every station of a load run adds to; read for the progress line and the report. */
import { createLatencyHistogram, type LatencyHistogram } from '../sim/latency-histogram.ts';

export interface ActionStats {
  acked: number;
  readonly latency: LatencyHistogram;
}

export interface LoadStats {
  /** Every call attempt sent, retries included. */
  callsSent: number;
  /** Calls answered with a CALLRESULT. */
  callsAcked: number;
  /** CALLRESULTs received inside the measurement window (after the ramp-up, before the end of the duration). */
  ackedInWindow: number;
  readonly callErrors: Map<string, number>;
  timeouts: number;
  /** Calls lost because the connection closed (or was not open). */
  callsLost: number;
  /** Attempts after the first of a transaction message (retried until acknowledged). */
  retries: number;
  /** Final transaction messages sent a second time after their acknowledgement (duplicateStopRate). */
  duplicateStops: number;
  /** Meter values delivered after their session's final message (lateMeterValueRate). */
  lateMeterValues: number;
  /** Pairs of consecutive meter values delivered in swapped order (swappedMeterValueRate). */
  swappedMeterValues: number;
  /** Older statuses delivered after a session's acknowledged Available (staleStatusRate). */
  staleStatuses: number;
  /** Signed register readings sent (`signed`: a begin and an end per session), retries not counted again. */
  signedReadings: number;
  connectAttempts: number;
  connectFailures: number;
  /** Connections lost after they had been open (server restarts, storms). */
  disconnects: number;
  bootsAccepted: number;
  /** BootNotifications not answered Accepted (Pending, Rejected, errors): the station retries. */
  bootsFailed: number;
  sessionsStarted: number;
  sessionsCompleted: number;
  sessionsRefused: number;
  readonly ackLatency: LatencyHistogram;
  readonly byAction: Map<string, ActionStats>;
  /** The same, for calls answered inside the measurement window only (the steady state: no ramp, no drain). */
  readonly windowAckLatency: LatencyHistogram;
  readonly windowByAction: Map<string, ActionStats>;
  /** Stations with an open, booted connection now, and the highest that number reached. */
  stationsOnline: number;
  peakStationsOnline: number;
}

export function createLoadStats(): LoadStats {
  return {
    callsSent: 0,
    callsAcked: 0,
    ackedInWindow: 0,
    callErrors: new Map(),
    timeouts: 0,
    callsLost: 0,
    retries: 0,
    duplicateStops: 0,
    lateMeterValues: 0,
    swappedMeterValues: 0,
    signedReadings: 0,
    staleStatuses: 0,
    connectAttempts: 0,
    connectFailures: 0,
    disconnects: 0,
    bootsAccepted: 0,
    bootsFailed: 0,
    sessionsStarted: 0,
    sessionsCompleted: 0,
    sessionsRefused: 0,
    ackLatency: createLatencyHistogram(),
    byAction: new Map(),
    windowAckLatency: createLatencyHistogram(),
    windowByAction: new Map(),
    stationsOnline: 0,
    peakStationsOnline: 0,
  };
}

export function recordAck(stats: LoadStats, action: string, latencyMs: number, inWindow: boolean): void {
  stats.callsAcked += 1;
  if (inWindow) stats.ackedInWindow += 1;
  stats.ackLatency.record(latencyMs);
  recordForAction(stats.byAction, action, latencyMs);
  if (inWindow) {
    stats.windowAckLatency.record(latencyMs);
    recordForAction(stats.windowByAction, action, latencyMs);
  }
}

function recordForAction(byAction: Map<string, ActionStats>, action: string, latencyMs: number): void {
  let perAction = byAction.get(action);
  if (perAction === undefined) {
    perAction = { acked: 0, latency: createLatencyHistogram() };
    byAction.set(action, perAction);
  }
  perAction.acked += 1;
  perAction.latency.record(latencyMs);
}

export function recordCallError(stats: LoadStats, code: string): void {
  stats.callErrors.set(code, (stats.callErrors.get(code) ?? 0) + 1);
}

/** Failed calls of every kind: CALLERRORs, timeouts and calls lost with their connection. */
export function errorTotal(stats: LoadStats): number {
  let total = stats.timeouts + stats.callsLost;
  for (const count of stats.callErrors.values()) total += count;
  return total;
}
