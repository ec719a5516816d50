/**
 * `runLoad`: thousands of lean OCPP stations from one process against any CSMS, for a fixed real duration. The
 * fleet connects at a bounded rate; each station then runs sessions (or only heartbeats); an optional reconnect
 * storm drops every connection at once; at the end sessions in progress are stopped and delivered. Returns the
 * report: messages/s, acknowledgement latency percentiles, errors, sessions and the storm's outcome.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { type CompletedSession, LeanStation, type LoadContext } from './lean-station.ts';
import { type LoadOptions, resolveLoadOptions } from './load-options.ts';
import { buildLoadReport, type LoadProgress, type LoadReport } from './load-report.ts';
import { createLoadStats, errorTotal } from './load-stats.ts';
import { createScheduler } from './scheduler.ts';

export type { LoadOptions } from './load-options.ts';
export type { LoadReport } from './load-report.ts';

export interface LoadDeps {
  readonly log?: (line: string) => void;
  /** Called once a second while the run lasts. */
  readonly onProgress?: (progress: LoadProgress) => void;
}

/** Real ms between sweeps for call timeouts, heartbeats and progress. */
const SWEEP_INTERVAL_MS = 1000;

export async function runLoad(options: LoadOptions, deps: LoadDeps = {}): Promise<LoadReport> {
  const resolved = resolveLoadOptions(options, () => randomInt(0x1_0000_0000));
  if (!resolved.ok) throw new RangeError(`load option ${resolved.error.option} ${resolved.error.message}`);
  const settings = resolved.value;
  const scheduler = createScheduler();
  const stats = createLoadStats();
  let markDrained: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    markDrained = resolve;
  });
  const phase = { draining: false, hardStop: false, windowOpen: false };
  const completed: CompletedSession[] | undefined = settings.recordSessions ? [] : undefined;
  const context: LoadContext = {
    settings,
    scheduler,
    stats,
    runTag: randomBytes(4).toString('hex'),
    drained,
    phase,
    completed,
    storm: undefined,
    log: deps.log ?? (() => {}),
  };
  const stations: LeanStation[] = [];
  const runs: Promise<void>[] = [];
  let windowStartMs: number | undefined;
  let windowEndMs: number | undefined;

  const sweep = setInterval(() => {
    const nowMs = performance.now();
    for (const station of stations) station.sweep(nowMs);
    deps.onProgress?.({
      elapsedS: scheduler.nowMs() / 1000,
      stationsOnline: stats.stationsOnline,
      callsAcked: stats.callsAcked,
      errors: errorTotal(stats),
      sessionsCompleted: stats.sessionsCompleted,
    });
  }, SWEEP_INTERVAL_MS);
  const abort = (): void => {
    phase.draining = true;
    markDrained();
  };
  settings.signal?.addEventListener('abort', abort, { once: true });

  const durationOver = scheduler.sleep(settings.durationS * 1000).then(() => {
    phase.draining = true;
    phase.windowOpen = false;
    windowEndMs = scheduler.nowMs();
    markDrained();
  });
  if (settings.reconnectStormAtS !== undefined) {
    const stormAtMs = settings.reconnectStormAtS * 1000;
    void scheduler.sleep(stormAtMs).then(() => {
      if (phase.draining) return;
      context.storm = {
        startedMs: scheduler.nowMs(),
        remaining: stations.length,
        completedMs: undefined,
        bootsFailedBefore: stats.bootsFailed,
        connectFailuresBefore: stats.connectFailures,
      };
      deps.log?.(`reconnect storm: ${stations.length} stations drop their connection`);
      for (const station of stations) {
        station.dropForStorm(Math.floor(Math.random() * settings.stormWindowS * 1000));
      }
    });
  }

  try {
    // The fleet connects at the configured rate, a batch per scheduler tick.
    const perBatch = Math.max(1, Math.round(settings.connectRatePerS / 100));
    const batchMs = (perBatch * 1000) / settings.connectRatePerS;
    const firstConnects: Promise<boolean>[] = [];
    for (let index = 0; index < settings.stations && !phase.draining; index += 1) {
      if (index > 0 && index % perBatch === 0) await scheduler.sleep(batchMs);
      const station = new LeanStation(settings.firstStation + index, context);
      stations.push(station);
      firstConnects.push(station.ensureOnline());
      runs.push(station.run());
    }
    await Promise.race([Promise.all(firstConnects), drained]);
    if (settings.warmupS > 0) await Promise.race([scheduler.sleep(settings.warmupS * 1000), drained]);
    if (!phase.draining) {
      phase.windowOpen = true;
      windowStartMs = scheduler.nowMs();
      deps.log?.(`${stats.stationsOnline} stations online after ${(windowStartMs / 1000).toFixed(1)} s`);
    }
    // The duration ends the run, and so does the caller's signal (which drains early).
    await Promise.race([durationOver, drained]);
    const allDone = Promise.all(runs);
    const drainOver = scheduler.sleep(settings.drainTimeoutS * 1000);
    await Promise.race([allDone, drainOver]);
  } finally {
    phase.hardStop = true;
    phase.draining = true;
    markDrained();
    clearInterval(sweep);
    scheduler.stop();
    for (const station of stations) station.close();
    await Promise.all(runs);
    settings.signal?.removeEventListener('abort', abort);
  }

  return buildLoadReport({
    settings,
    stats,
    stationsStarted: stations.length,
    windowStartMs,
    windowEndMs,
    totalMs: scheduler.nowMs(),
    storm: context.storm,
    completed,
  });
}
