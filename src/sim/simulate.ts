/**
 * `runSimulation`: N simulated OCPP 1.6J stations against any CSMS, M planned sessions each, on a compressed
 * simulated clock. Plans everything up front from the seed, connects the stations at a bounded rate, waits until
 * every station has run its plan and delivered its transaction messages, and returns the summary.
 */
import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { planRun } from './plan-sessions.ts';
import { createRunStats } from './run-stats.ts';
import { createSimClock } from './sim-clock.ts';
import {
  type ResolvedSimulationOptions,
  resolveSimulationOptions,
  type SimulationOptions,
} from './simulation-options.ts';
import { SimulatedStation, type StationContext } from './station.ts';
import { buildSummary, progressOf, type SimulationProgress, type SimulationSummary } from './summary.ts';

export type { SessionRecord, SessionStatus } from './session-record.ts';
export type { SimulationOptions } from './simulation-options.ts';
export type { SimulationProgress, SimulationSummary } from './summary.ts';

export interface SimulationDeps {
  /** Called every PROGRESS_INTERVAL_MS and once at the end. */
  readonly onProgress?: (progress: SimulationProgress) => void;
  /** Notable events (lost connections, refused boots, given-up messages), one line each. */
  readonly log?: (line: string) => void;
  /** The real wall clock, read once at the start to anchor the simulated clock. */
  readonly now?: () => Date;
}

export const PROGRESS_INTERVAL_MS = 200;
/** Stations are started in batches on this real-time tick while they connect. */
export const CONNECT_TICK_MS = 20;
/** Real time allowed from a station's connect to its accepted boot when estimating the run's span. */
export const BOOT_ALLOWANCE_REAL_MS = 250;
/**
 * Simulated seconds reserved after the plan when stations stay connected, so that sessions the CSMS starts
 * remotely still run on the compressed clock (past the reserve the clock runs at real speed).
 */
export const STAY_CONNECTED_RESERVE_S = 86_400;

/**
 * Each station's origin in whole simulated seconds from the start of the simulated clock: when it is planned to
 * have connected and booted, given the connection rate. Its sessions are placed from there.
 */
export function stationOriginOffsetsS(stationCount: number, connectRatePerS: number, speedFactor: number): number[] {
  const connectIntervalMs = 1000 / connectRatePerS;
  return Array.from({ length: stationCount }, (_, index) =>
    Math.ceil(((index * connectIntervalMs + BOOT_ALLOWANCE_REAL_MS) / 1000) * speedFactor),
  );
}

export async function runSimulation(options: SimulationOptions, deps: SimulationDeps = {}): Promise<SimulationSummary> {
  const resolved = resolveSimulationOptions(options, () => randomInt(0x1_0000_0000));
  if (!resolved.ok) throw new RangeError(`simulation option ${resolved.error.option} ${resolved.error.message}`);
  const settings = resolved.value;
  const log = deps.log ?? (() => {});
  const runStartedMs = performance.now();
  const plan = planRun({
    seed: settings.seed,
    stations: settings.stations,
    sessionsPerStation: settings.sessionsPerStation,
    firstStation: settings.firstStation,
    stationPrefix: settings.stationPrefix,
    idTags: settings.idTags,
    maxPowerW: settings.maxPowerW,
    meterIntervalS: settings.meterIntervalS,
  });
  const originOffsetsS = stationOriginOffsetsS(settings.stations, settings.connectRatePerS, settings.speedFactor);
  const plannedSpanS =
    plan.stations.reduce((longestS, station, index) => Math.max(longestS, originOffsetsS[index]! + station.spanS), 0) +
    (settings.stayConnected ? STAY_CONNECTED_RESERVE_S : 0);
  // The simulated clock is anchored after planning, which takes a noticeable time for large runs.
  const wallStartMs = (deps.now ?? (() => new Date()))().getTime();
  const realStartMs = performance.now();
  const clock = createSimClock({
    wallStartMs,
    speedFactor: settings.speedFactor,
    plannedSpanS,
    elapsedRealMs: () => performance.now() - realStartMs,
  });
  const stats = createRunStats();
  const sessionsPlanned = settings.stations * settings.sessionsPerStation;
  const stop = linkedAbortController(settings.signal);
  const context: StationContext = {
    url: settings.url,
    password: settings.password,
    protocol: settings.protocol,
    tls: settings.tls,
    seed: settings.seed,
    maxPowerW: settings.maxPowerW,
    meterIntervalS: settings.meterIntervalS,
    callTimeoutMs: settings.callTimeoutMs,
    reconnectDelayMs: settings.reconnectDelayMs,
    stayConnected: settings.stayConnected,
    clock,
    stats,
    log,
    signal: stop.signal,
  };

  const report = (): void => deps.onProgress?.(progressOf(stats, sessionsPlanned));
  const progressTimer = deps.onProgress ? setInterval(report, PROGRESS_INTERVAL_MS) : null;
  const stations: SimulatedStation[] = [];
  try {
    const origins = originOffsetsS.map((offsetS) => clock.simStartMs + offsetS * 1000);
    const runs = await startStations(plan.stations, origins, context, settings, stations);
    await Promise.all(runs);
  } finally {
    if (progressTimer !== null) clearInterval(progressTimer);
    stop.dispose();
  }
  report();

  return buildSummary({
    url: settings.url,
    seed: settings.seed,
    speedFactor: settings.speedFactor,
    stationsPlanned: settings.stations,
    sessionsPlanned,
    stats,
    records: stations.flatMap((station) => station.records),
    wallTimeMs: performance.now() - runStartedMs,
    simulatedFromMs: clock.simStartMs,
    simulatedToMs: clock.nowMs(),
  });
}

/**
 * Creates and starts the stations at the configured connection rate, in small batches per tick, so that a load
 * run does not open thousands of sockets in the same millisecond. Stations are created only when they start.
 */
async function startStations(
  plans: ReturnType<typeof planRun>['stations'],
  originsMs: readonly number[],
  context: StationContext,
  settings: ResolvedSimulationOptions,
  started: SimulatedStation[],
): Promise<Promise<void>[]> {
  const perTick = Math.max(1, Math.round((settings.connectRatePerS * CONNECT_TICK_MS) / 1000));
  const tickMs = (perTick * 1000) / settings.connectRatePerS;
  const runs: Promise<void>[] = [];
  for (let index = 0; index < plans.length; index += 1) {
    if (index > 0 && index % perTick === 0) {
      if (context.signal.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    const station = new SimulatedStation(plans[index]!, context, originsMs[index]!);
    started.push(station);
    runs.push(station.run());
  }
  // Stations never started because the run was stopped still report their sessions, as failed.
  for (let index = started.length; index < plans.length; index += 1) {
    const station = new SimulatedStation(plans[index]!, context, originsMs[index]!);
    started.push(station);
    runs.push(station.run());
  }
  return runs;
}

function linkedAbortController(outer: AbortSignal | undefined): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  // Every station listens for the end of the run: thousands of listeners on one signal are expected here.
  setMaxListeners(0, controller.signal);
  if (outer === undefined) return { signal: controller.signal, dispose: () => {} };
  const forward = (): void => controller.abort(outer.reason);
  if (outer.aborted) forward();
  else outer.addEventListener('abort', forward, { once: true });
  return { signal: controller.signal, dispose: () => outer.removeEventListener('abort', forward) };
}
