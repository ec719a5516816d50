/**
 * The options of a load run, their defaults and limits: one place for `runLoad` and `voltbill load`, so both accept
 * exactly the same values and report the same errors.
 */
import { err, ok, type Result } from '../shared/result.ts';
import type { TlsOptions } from './lean-connection.ts';
import type { LoadProtocolChoice } from './load-protocol.ts';

export interface LoadOptions {
  /**
   * The CSMS's OCPP endpoint, ws:// or wss://; station S connects to `${url}/${S}`. Several endpoints (the nodes of a
   * cluster) separated by commas: station n connects first to endpoint n mod k, and each reconnect goes to the next
   * one, as behind a load balancer that sends a new connection to a live node.
   */
  readonly url: string;
  readonly stations: number;
  /** Real seconds of load; then sessions in progress are ended and the stations disconnect. */
  readonly durationS: number;
  readonly protocol?: LoadProtocolChoice;
  /** Real seconds between meter values of a session; 0 = the next as soon as the last is acknowledged. */
  readonly meterIntervalS?: number;
  /** Meter values per session (MeterValues in 1.6, TransactionEvent Updated in 2.0.1). */
  readonly samplesPerSession?: number;
  /** Mean real seconds a connector stays idle between sessions (each gap is drawn from 0.5× to 1.5×). */
  readonly idleS?: number;
  /** false: stations only boot, report status and heartbeat (connection benchmarks). */
  readonly sessions?: boolean;
  /** Heartbeat interval in real seconds; default: the interval of the boot answer. */
  readonly heartbeatIntervalS?: number;
  /** New connections per second while the fleet connects. */
  readonly connectRatePerS?: number;
  readonly stationPrefix?: string;
  readonly firstStation?: number;
  /** idTag of station n: this prefix and n in six digits (LT000001). */
  readonly idTagPrefix?: string;
  readonly password?: string;
  readonly tls?: TlsOptions;
  readonly callTimeoutMs?: number;
  /** Real second of the run at which every station drops its connection and reconnects (a reconnect storm). */
  readonly reconnectStormAtS?: number;
  /** The storm's reconnects are spread uniformly over this many real seconds. */
  readonly stormWindowS?: number;
  /** Real seconds after the duration allowed for ending sessions and delivering their last messages. */
  readonly drainTimeoutS?: number;
  /**
   * Real seconds after every station is online before the measurement window opens: the first boots and session
   * starts of a large fleet are a burst of their own, which a steady-state figure must leave out.
   */
  readonly warmupS?: number;
  readonly seed?: number;
  /**
   * Share (0..1) of sessions whose final message (StopTransaction, TransactionEvent Ended) the station sends a second
   * time after it was acknowledged, as a station does that lost the acknowledgement: the CSMS must not bill twice.
   */
  readonly duplicateStopRate?: number;
  /**
   * Share (0..1) of sessions that deliver one meter value after their final message (out of order, as after a
   * retry from a station's queue): the CSMS must acknowledge it and change nothing already billed.
   */
  readonly lateMeterValueRate?: number;
  /**
   * Share (0..1) of sessions (with at least two samples) that deliver two consecutive meter values in swapped order,
   * the later reading first (OCPP 2.0.1: the higher seqNo first): the CSMS must take both and bill the same.
   */
  readonly swappedMeterValueRate?: number;
  /**
   * Share (0..1) of sessions after which the station, its Available status acknowledged, delivers an older status of
   * the session (Charging or Preparing; 2.0.1 Occupied): the CSMS must keep the newer one.
   */
  readonly staleStatusRate?: number;
  /**
   * Each station's meter signs the register at the begin and the end of every session (OCMF, with its public key in
   * the data: load-meter.ts), as Eichrecht meters do: the CSMS stores, verifies and checks the signed energy.
   */
  readonly signed?: boolean;
  /** Keep every completed session (station, transaction id) in the report (crash tests compare with the DB). */
  readonly recordSessions?: boolean;
  readonly signal?: AbortSignal;
}

export type ResolvedLoadOptions = Required<
  Omit<LoadOptions, 'password' | 'tls' | 'heartbeatIntervalS' | 'reconnectStormAtS' | 'signal'>
> & {
  readonly password: string | undefined;
  readonly tls: TlsOptions | undefined;
  readonly heartbeatIntervalS: number | undefined;
  readonly reconnectStormAtS: number | undefined;
  /** `url` split into its endpoints (one or more), each without a trailing slash. */
  readonly urls: readonly string[];
  readonly signal: AbortSignal | undefined;
};

export interface LoadOptionError {
  readonly option: keyof LoadOptions;
  readonly message: string;
}

export const LOAD_DEFAULTS = {
  protocol: 'ocpp1.6',
  meterIntervalS: 10,
  samplesPerSession: 6,
  idleS: 10,
  sessions: true,
  connectRatePerS: 500,
  stationPrefix: 'LOAD-',
  firstStation: 1,
  idTagPrefix: 'LT',
  callTimeoutMs: 30_000,
  stormWindowS: 10,
  drainTimeoutS: 60,
  warmupS: 0,
  recordSessions: false,
  signed: false,
  duplicateStopRate: 0,
  lateMeterValueRate: 0,
  swappedMeterValueRate: 0,
  staleStatusRate: 0,
} as const;

export const LOAD_LIMITS = {
  stations: [1, 100_000],
  durationS: [1, 86_400],
  meterIntervalS: [0, 3600],
  samplesPerSession: [0, 10_000_000],
  idleS: [0, 86_400],
  heartbeatIntervalS: [1, 86_400],
  connectRatePerS: [1, 100_000],
  firstStation: [1, 9_999_999],
  callTimeoutMs: [100, 300_000],
  reconnectStormAtS: [0, 86_400],
  stormWindowS: [0, 3600],
  drainTimeoutS: [0, 3600],
  warmupS: [0, 3600],
  seed: [0, 0xffff_ffff],
  duplicateStopRate: [0, 1],
  lateMeterValueRate: [0, 1],
  swappedMeterValueRate: [0, 1],
  staleStatusRate: [0, 1],
} as const satisfies Partial<Record<keyof LoadOptions, readonly [number, number]>>;

/** Options that take any number in their range; the others take integers. */
const FRACTIONAL_OPTIONS = new Set<keyof LoadOptions>([
  'meterIntervalS',
  'idleS',
  'stormWindowS',
  'duplicateStopRate',
  'lateMeterValueRate',
  'swappedMeterValueRate',
  'staleStatusRate',
  'warmupS',
]);

/** Endpoints (nodes) one run spreads its stations over at most. */
const MAX_ENDPOINTS = 16;

export function resolveLoadOptions(
  options: LoadOptions,
  randomSeed: () => number,
): Result<ResolvedLoadOptions, LoadOptionError> {
  const urls = options.url.split(',').map((url) => url.trim().replace(/\/+$/, ''));
  if (urls.length > MAX_ENDPOINTS) {
    return err({ option: 'url', message: `at most ${MAX_ENDPOINTS} endpoints (got ${urls.length})` });
  }
  for (const url of urls) {
    if (!/^wss?:\/\/[^/]/.test(url)) {
      return err({ option: 'url', message: `must be ws:// or wss:// URLs, separated by commas (got ${url || '""'})` });
    }
  }
  for (const [option, [min, max]] of Object.entries(LOAD_LIMITS) as [keyof typeof LOAD_LIMITS, [number, number]][]) {
    const value = options[option];
    if (value === undefined) continue;
    const integer = !FRACTIONAL_OPTIONS.has(option);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      const kind = integer ? 'an integer' : 'a number';
      return err({ option, message: `must be ${kind} from ${min} to ${max} (got ${value})` });
    }
  }
  const stationPrefix = options.stationPrefix ?? LOAD_DEFAULTS.stationPrefix;
  if (!/^[A-Za-z0-9*._:-]{0,40}$/.test(stationPrefix)) {
    return err({ option: 'stationPrefix', message: 'must be at most 40 of A-Z a-z 0-9 * . _ : -' });
  }
  const idTagPrefix = options.idTagPrefix ?? LOAD_DEFAULTS.idTagPrefix;
  if (!/^[A-Za-z0-9]{0,13}$/.test(idTagPrefix)) {
    return err({ option: 'idTagPrefix', message: 'must be at most 13 letters or digits (idTags are CiString20)' });
  }
  return ok({
    url: urls.join(','),
    urls,
    stations: options.stations,
    durationS: options.durationS,
    protocol: options.protocol ?? LOAD_DEFAULTS.protocol,
    meterIntervalS: options.meterIntervalS ?? LOAD_DEFAULTS.meterIntervalS,
    samplesPerSession: options.samplesPerSession ?? LOAD_DEFAULTS.samplesPerSession,
    idleS: options.idleS ?? LOAD_DEFAULTS.idleS,
    sessions: options.sessions ?? LOAD_DEFAULTS.sessions,
    heartbeatIntervalS: options.heartbeatIntervalS,
    connectRatePerS: options.connectRatePerS ?? LOAD_DEFAULTS.connectRatePerS,
    stationPrefix,
    firstStation: options.firstStation ?? LOAD_DEFAULTS.firstStation,
    idTagPrefix,
    password: options.password,
    tls: options.tls,
    callTimeoutMs: options.callTimeoutMs ?? LOAD_DEFAULTS.callTimeoutMs,
    reconnectStormAtS: options.reconnectStormAtS,
    stormWindowS: options.stormWindowS ?? LOAD_DEFAULTS.stormWindowS,
    drainTimeoutS: options.drainTimeoutS ?? LOAD_DEFAULTS.drainTimeoutS,
    warmupS: options.warmupS ?? LOAD_DEFAULTS.warmupS,
    seed: options.seed ?? randomSeed(),
    recordSessions: options.recordSessions ?? LOAD_DEFAULTS.recordSessions,
    signed: options.signed ?? LOAD_DEFAULTS.signed,
    duplicateStopRate: options.duplicateStopRate ?? LOAD_DEFAULTS.duplicateStopRate,
    lateMeterValueRate: options.lateMeterValueRate ?? LOAD_DEFAULTS.lateMeterValueRate,
    swappedMeterValueRate: options.swappedMeterValueRate ?? LOAD_DEFAULTS.swappedMeterValueRate,
    staleStatusRate: options.staleStatusRate ?? LOAD_DEFAULTS.staleStatusRate,
    signal: options.signal,
  });
}

/** Station n's id: the prefix and n in at least five digits (LOAD-00001). */
export function loadStationId(prefix: string, stationNumber: number): string {
  return `${prefix}${String(stationNumber).padStart(5, '0')}`;
}

/** Station n's idTag: the prefix and n in at least six digits (LT000001); one card per station. */
export function loadIdTag(prefix: string, stationNumber: number): string {
  return `${prefix}${String(stationNumber).padStart(6, '0')}`;
}
