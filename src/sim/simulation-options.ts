/**
 * The options of a simulation run, their defaults and their limits. One place, so that `runSimulation` and the
 * `voltbill simulate` command accept exactly the same values and report the same errors.
 */
import { err, ok, type Result } from '../shared/result.ts';
import { stationIdFor } from './plan-sessions.ts';
import { MAX_MAX_POWER_W, MIN_MAX_POWER_W } from './power-curve.ts';
import { MAX_SEED } from './prng.ts';
import { SIM_PROTOCOL_CHOICES, type SimProtocolChoice } from './sim-protocol.ts';
import type { SimTlsOptions } from './station-connection.ts';

export interface SimulationOptions {
  /** The CSMS's OCPP endpoint, ws:// or wss://; a station connects to `${url}/${stationId}`. */
  readonly url: string;
  readonly stations: number;
  readonly sessionsPerStation: number;
  /** Simulated seconds per real second. */
  readonly speedFactor?: number;
  /** Simulated seconds between periodic MeterValues. */
  readonly meterIntervalS?: number;
  /** The station's maximum charging power, in W. */
  readonly maxPowerW?: number;
  /** Seed of the session plan (unsigned 32-bit); random when absent, and reported in the summary. */
  readonly seed?: number;
  /** idTags the drivers present, assigned to stations in turn. */
  readonly idTags?: readonly string[];
  readonly stationPrefix?: string;
  readonly firstStation?: number;
  /** HTTP Basic auth password (OCPP security profile 1, or 2 over wss://). */
  readonly password?: string;
  /** OCPP version of every station, or `mixed` (odd-numbered stations 1.6, even-numbered ones 2.0.1). */
  readonly protocol?: SimProtocolChoice;
  /** TLS material for wss://: the server's CA (profiles 2 and 3) and a client certificate and key (profile 3). */
  readonly tls?: SimTlsOptions;
  /** New connections per second while the stations connect. */
  readonly connectRatePerS?: number;
  /** Real milliseconds a call waits for its answer. */
  readonly callTimeoutMs?: number;
  /** Real milliseconds before the first reconnect after a lost connection (then doubled, up to 10 s). */
  readonly reconnectDelayMs?: number;
  /** After their plan, stations stay connected (answering the CSMS, heartbeating) until `signal` aborts. */
  readonly stayConnected?: boolean;
  /** Aborting stops the run: running transactions are stopped (reason Other) and later sessions are not started. */
  readonly signal?: AbortSignal;
}

export type ResolvedSimulationOptions = Required<Omit<SimulationOptions, 'password' | 'signal' | 'tls'>> & {
  readonly password: string | undefined;
  readonly tls: SimTlsOptions | undefined;
  readonly signal: AbortSignal | undefined;
};

export interface OptionError {
  readonly option: keyof SimulationOptions;
  readonly message: string;
}

/** One simulated hour per real second: a demo of 10 stations with 3 sessions each takes about 20 s. */
export const DEFAULT_SPEED_FACTOR = 3600;
export const DEFAULT_METER_INTERVAL_S = 60;
export const DEFAULT_MAX_POWER_W = 11_000;
export const DEFAULT_STATION_PREFIX = 'DEMO-';
export const DEFAULT_FIRST_STATION = 1;
export const DEFAULT_CONNECT_RATE_PER_S = 200;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_RECONNECT_DELAY_MS = 1000;
export const DEFAULT_ID_TAGS: readonly string[] = Array.from(
  { length: 10 },
  (_, index) => `DEMO${String(index + 1).padStart(4, '0')}`,
);

export const MAX_STATIONS = 100_000;
export const MAX_SESSIONS_PER_STATION = 10_000;
export const MIN_SPEED_FACTOR = 1;
export const MAX_SPEED_FACTOR = 1_000_000;
export const MIN_METER_INTERVAL_S = 5;
export const MAX_METER_INTERVAL_S = 3600;
export const MAX_CONNECT_RATE_PER_S = 10_000;
export const MIN_CALL_TIMEOUT_MS = 100;
export const MAX_CALL_TIMEOUT_MS = 300_000;
export const MIN_RECONNECT_DELAY_MS = 10;
export const MAX_RECONNECT_DELAY_MS = 60_000;
export const MAX_ID_TAGS = 10_000;
/** OCPP 1.6 idTags are CiString20. */
export const MAX_ID_TAG_LENGTH = 20;
/** OCPP-J limits a charging station identity to 48 characters. */
export const MAX_STATION_ID_LENGTH = 48;

/** Checks every option and fills in the defaults; `randomSeed` is called only when no seed is given. */
export function resolveSimulationOptions(
  options: SimulationOptions,
  randomSeed: () => number,
): Result<ResolvedSimulationOptions, OptionError> {
  const url = options.url.replace(/\/+$/, '');
  if (!/^wss?:\/\/[^/\s]+/.test(url)) {
    return err({ option: 'url', message: `must be a ws:// or wss:// URL (got ${JSON.stringify(options.url)})` });
  }
  const checks: [keyof SimulationOptions, number | undefined, number, number, boolean][] = [
    ['stations', options.stations, 1, MAX_STATIONS, true],
    ['sessionsPerStation', options.sessionsPerStation, 0, MAX_SESSIONS_PER_STATION, true],
    ['speedFactor', options.speedFactor, MIN_SPEED_FACTOR, MAX_SPEED_FACTOR, false],
    ['meterIntervalS', options.meterIntervalS, MIN_METER_INTERVAL_S, MAX_METER_INTERVAL_S, true],
    ['maxPowerW', options.maxPowerW, MIN_MAX_POWER_W, MAX_MAX_POWER_W, true],
    ['seed', options.seed, 0, MAX_SEED, true],
    ['firstStation', options.firstStation, 0, 99_999_999, true],
    ['connectRatePerS', options.connectRatePerS, 1, MAX_CONNECT_RATE_PER_S, false],
    ['callTimeoutMs', options.callTimeoutMs, MIN_CALL_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS, true],
    ['reconnectDelayMs', options.reconnectDelayMs, MIN_RECONNECT_DELAY_MS, MAX_RECONNECT_DELAY_MS, true],
  ];
  for (const [option, value, min, max, integer] of checks) {
    if (value === undefined) continue;
    const valid = Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
    if (!valid) {
      const kind = integer ? 'an integer' : 'a number';
      return err({ option, message: `must be ${kind} from ${min} to ${max} (got ${String(value)})` });
    }
  }
  if (options.protocol !== undefined && !SIM_PROTOCOL_CHOICES.includes(options.protocol)) {
    return err({
      option: 'protocol',
      message: `must be one of ${SIM_PROTOCOL_CHOICES.join(', ')} (got ${JSON.stringify(options.protocol)})`,
    });
  }
  const idTags = options.idTags ?? DEFAULT_ID_TAGS;
  if (idTags.length === 0 || idTags.length > MAX_ID_TAGS) {
    return err({ option: 'idTags', message: `must list 1 to ${MAX_ID_TAGS} idTags` });
  }
  const badTag = idTags.find((idTag) => idTag.length === 0 || idTag.length > MAX_ID_TAG_LENGTH || /\s/.test(idTag));
  if (badTag !== undefined) {
    return err({
      option: 'idTags',
      message: `each idTag must be 1 to ${MAX_ID_TAG_LENGTH} characters without spaces (got ${JSON.stringify(badTag)})`,
    });
  }
  const stationPrefix = options.stationPrefix ?? DEFAULT_STATION_PREFIX;
  const firstStation = options.firstStation ?? DEFAULT_FIRST_STATION;
  const lastStationId = stationIdFor(stationPrefix, firstStation + options.stations - 1);
  if (!/^[A-Za-z0-9._:-]*$/.test(stationPrefix) || lastStationId.length > MAX_STATION_ID_LENGTH) {
    return err({
      option: 'stationPrefix',
      message: `must use only letters, digits and . _ : - and keep station ids within ${MAX_STATION_ID_LENGTH} characters`,
    });
  }
  return ok({
    url,
    stations: options.stations,
    sessionsPerStation: options.sessionsPerStation,
    speedFactor: options.speedFactor ?? DEFAULT_SPEED_FACTOR,
    meterIntervalS: options.meterIntervalS ?? DEFAULT_METER_INTERVAL_S,
    maxPowerW: options.maxPowerW ?? DEFAULT_MAX_POWER_W,
    seed: options.seed ?? randomSeed(),
    idTags,
    stationPrefix,
    firstStation,
    password: options.password,
    protocol: options.protocol ?? 'ocpp1.6',
    tls: options.tls,
    connectRatePerS: options.connectRatePerS ?? DEFAULT_CONNECT_RATE_PER_S,
    callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    reconnectDelayMs: options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS,
    stayConnected: options.stayConnected ?? false,
    signal: options.signal,
  });
}
