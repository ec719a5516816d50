/** The result of a load run, built from the counters once the run is over. Pure. */
import type { LatencyHistogram } from '../sim/latency-histogram.ts';
import type { CompletedSession, StormState } from './lean-station.ts';
import type { ResolvedLoadOptions } from './load-options.ts';
import { type ActionStats, errorTotal, type LoadStats } from './load-stats.ts';

export interface LoadProgress {
  readonly elapsedS: number;
  readonly stationsOnline: number;
  readonly callsAcked: number;
  readonly errors: number;
  readonly sessionsCompleted: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export interface LoadReport {
  readonly url: string;
  readonly protocol: string;
  readonly seed: number;
  readonly stations: { readonly planned: number; readonly peakOnline: number };
  readonly durationS: number;
  /** The measurement window: from the moment every station had connected (or failed to) to the end of the duration. */
  readonly windowS: number;
  readonly wallTimeS: number;
  readonly messages: {
    readonly sent: number;
    readonly acknowledged: number;
    /** Acknowledged calls per second inside the measurement window. */
    readonly perSecond: number;
    readonly retries: number;
    /** Final transaction messages deliberately sent twice, and meter values sent after their session ended. */
    readonly duplicateStops: number;
    readonly lateMeterValues: number;
    /** Pairs of consecutive meter values delivered in swapped order. */
    readonly swappedMeterValues: number;
    /** Older statuses delivered after a session's acknowledged Available. */
    readonly staleStatuses: number;
    /** Signed register readings sent (`--signed`: one at each session's begin and end). */
    readonly signedReadings: number;
  };
  /** Latency of every acknowledged call of the run, ramp-up and drain included. */
  readonly ackLatency: LatencySummary;
  readonly byAction: Record<string, LatencySummary>;
  /** Latency of the calls acknowledged inside the measurement window: the steady state's figures. */
  readonly windowAckLatency: LatencySummary;
  readonly windowByAction: Record<string, LatencySummary>;
  readonly errors: {
    readonly total: number;
    readonly callErrors: Record<string, number>;
    readonly timeouts: number;
    readonly callsLost: number;
  };
  readonly connections: {
    readonly attempts: number;
    readonly failed: number;
    readonly disconnects: number;
    readonly bootsAccepted: number;
    readonly bootsFailed: number;
  };
  readonly sessions: {
    readonly started: number;
    readonly completed: number;
    readonly refused: number;
    /** Completed sessions per second of the whole run. */
    readonly perSecond: number;
  };
  readonly storm?: {
    readonly stations: number;
    /** Stations that had not booted again when the run ended. */
    readonly notReconnected: number;
    /** Real seconds from the storm to the last station's accepted boot; null when not all came back. */
    readonly allBackAfterS: number | null;
    readonly failedBoots: number;
    readonly failedConnects: number;
  };
  readonly completedSessions?: readonly CompletedSession[];
}

/**
 * Whether a run kept its promises, for `voltbill load`'s exit status: no call failed, every station came online, and
 * after a reconnect storm every station booted again with no boot refused. (A failed connect that a retry made good
 * is not a failure: stations retry as the protocol says; the report counts them.)
 */
export function loadRunPassed(report: Pick<LoadReport, 'errors' | 'stations' | 'storm'>): boolean {
  if (report.errors.total !== 0 || report.stations.peakOnline !== report.stations.planned) return false;
  if (report.storm && (report.storm.notReconnected > 0 || report.storm.failedBoots > 0)) return false;
  return true;
}

export function summarizeLatency(histogram: LatencyHistogram): LatencySummary {
  const round = (value: number | null) => (value === null ? null : Math.round(value * 100) / 100);
  return {
    count: histogram.count,
    p50Ms: round(histogram.percentileMs(50)),
    p95Ms: round(histogram.percentileMs(95)),
    p99Ms: round(histogram.percentileMs(99)),
    maxMs: round(histogram.maxMs),
  };
}

export function buildLoadReport(input: {
  settings: ResolvedLoadOptions;
  stats: LoadStats;
  stationsStarted: number;
  windowStartMs: number | undefined;
  windowEndMs: number | undefined;
  totalMs: number;
  storm: StormState | undefined;
  completed: CompletedSession[] | undefined;
}): LoadReport {
  const { settings, stats, storm } = input;
  const windowMs =
    input.windowStartMs !== undefined && input.windowEndMs !== undefined ? input.windowEndMs - input.windowStartMs : 0;
  const perSecond =
    windowMs > 0 ? stats.ackedInWindow / (windowMs / 1000) : stats.callsAcked / Math.max(0.001, input.totalMs / 1000);
  const summarizeActions = (actions: Map<string, ActionStats>) => {
    const summaries: Record<string, LatencySummary> = {};
    for (const [action, perAction] of [...actions].sort(([a], [b]) => a.localeCompare(b))) {
      summaries[action] = summarizeLatency(perAction.latency);
    }
    return summaries;
  };
  return {
    url: settings.url,
    protocol: settings.protocol,
    seed: settings.seed,
    stations: { planned: settings.stations, peakOnline: stats.peakStationsOnline },
    durationS: settings.durationS,
    windowS: Math.round(windowMs) / 1000,
    wallTimeS: Math.round(input.totalMs) / 1000,
    messages: {
      sent: stats.callsSent,
      acknowledged: stats.callsAcked,
      perSecond: Math.round(perSecond),
      retries: stats.retries,
      duplicateStops: stats.duplicateStops,
      lateMeterValues: stats.lateMeterValues,
      swappedMeterValues: stats.swappedMeterValues,
      staleStatuses: stats.staleStatuses,
      signedReadings: stats.signedReadings,
    },
    ackLatency: summarizeLatency(stats.ackLatency),
    byAction: summarizeActions(stats.byAction),
    windowAckLatency: summarizeLatency(stats.windowAckLatency),
    windowByAction: summarizeActions(stats.windowByAction),
    errors: {
      total: errorTotal(stats),
      callErrors: Object.fromEntries(stats.callErrors),
      timeouts: stats.timeouts,
      callsLost: stats.callsLost,
    },
    connections: {
      attempts: stats.connectAttempts,
      failed: stats.connectFailures,
      disconnects: stats.disconnects,
      bootsAccepted: stats.bootsAccepted,
      bootsFailed: stats.bootsFailed,
    },
    sessions: {
      started: stats.sessionsStarted,
      completed: stats.sessionsCompleted,
      refused: stats.sessionsRefused,
      perSecond: Math.round((stats.sessionsCompleted / Math.max(0.001, input.totalMs / 1000)) * 10) / 10,
    },
    ...(storm !== undefined && {
      storm: {
        stations: input.stationsStarted,
        notReconnected: storm.remaining,
        allBackAfterS: storm.completedMs === undefined ? null : (storm.completedMs - storm.startedMs) / 1000,
        failedBoots: stats.bootsFailed - storm.bootsFailedBefore,
        failedConnects: stats.connectFailures - storm.connectFailuresBefore,
      },
    }),
    ...(input.completed !== undefined && { completedSessions: input.completed }),
  };
}

/** The report as an aligned two-column table for a terminal. */
export function formatLoadReport(report: LoadReport): string {
  const ms = (value: number | null) => (value === null ? '-' : `${value.toFixed(1)} ms`);
  const latency = (l: LatencySummary) =>
    `p50 ${ms(l.p50Ms)}, p95 ${ms(l.p95Ms)}, p99 ${ms(l.p99Ms)}, max ${ms(l.maxMs)}`;
  const callErrors = Object.entries(report.errors.callErrors);
  const rows: [string, string][] = [
    ['CSMS', `${report.url} (${report.protocol}, seed ${report.seed})`],
    ['stations', `${report.stations.planned} planned, ${report.stations.peakOnline} online at peak`],
    ['duration', `${report.durationS} s (measured window ${report.windowS} s, wall ${report.wallTimeS} s)`],
    [
      'messages',
      `${report.messages.perSecond}/s acknowledged in the window; ${report.messages.acknowledged} acknowledged of ` +
        `${report.messages.sent} sent, ${report.messages.retries} retries`,
    ],
    ['ack latency', `${latency(report.ackLatency)} (${report.ackLatency.count} calls)`],
    ...Object.entries(report.byAction).map(([action, l]): [string, string] => [
      `  ${action}`,
      `${latency(l)} (${l.count})`,
    ]),
    ['in the window', `${latency(report.windowAckLatency)} (${report.windowAckLatency.count} calls)`],
    ...Object.entries(report.windowByAction).map(([action, l]): [string, string] => [
      `  ${action}`,
      `${latency(l)} (${l.count})`,
    ]),
    [
      'errors',
      `${report.errors.total}: ${report.errors.timeouts} timeouts, ${report.errors.callsLost} lost with the connection` +
        (callErrors.length > 0 ? `, ${callErrors.map(([code, count]) => `${code} ${count}`).join(', ')}` : ''),
    ],
    [
      'connections',
      `${report.connections.attempts} attempts, ${report.connections.failed} failed, ${report.connections.disconnects} ` +
        `dropped; boots ${report.connections.bootsAccepted} accepted, ${report.connections.bootsFailed} not`,
    ],
    [
      'sessions',
      `${report.sessions.started} started, ${report.sessions.completed} completed (${report.sessions.perSecond}/s), ` +
        `${report.sessions.refused} refused` +
        (report.messages.signedReadings > 0 ? `; ${report.messages.signedReadings} signed readings sent` : ''),
    ],
  ];
  if (report.storm) {
    const storm = report.storm;
    rows.push([
      'reconnect storm',
      `${storm.stations} stations: ${storm.allBackAfterS === null ? `${storm.notReconnected} never came back` : `all back after ${storm.allBackAfterS.toFixed(1)} s`}, ` +
        `${storm.failedBoots} failed boots, ${storm.failedConnects} failed connects`,
    ]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
