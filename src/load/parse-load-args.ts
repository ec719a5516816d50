/**
 * Reads the arguments of `voltbill load` into LoadOptions plus the command's own flags. Pure apart from nothing:
 * TLS files are named here and read by the command. An invalid argument is an error naming the flag.
 */
import { parseArgs } from 'node:util';
import { err, ok, type Result } from '../shared/result.ts';
import { type LoadOptions, resolveLoadOptions } from './load-options.ts';
import { LOAD_PROTOCOL_CHOICES, type LoadProtocolChoice } from './load-protocol.ts';

export interface LoadCommandArgs {
  /** Without `url`: the command starts Voltbill in-process and points the stations at it. */
  readonly options: Omit<LoadOptions, 'url'> & { readonly url: string | undefined };
  readonly json: boolean;
  readonly quiet: boolean;
  /** With --url: register the fleet in DATABASE_URL's database before the run. */
  readonly provision: boolean;
  readonly caFile: string | undefined;
  readonly clientCertFile: string | undefined;
  readonly clientKeyFile: string | undefined;
}

export type ParsedLoadArgs = { readonly help: true } | ({ readonly help: false } & LoadCommandArgs);

export const LOAD_USAGE = `usage: voltbill load --stations N --duration S [options]

Thousands of lean OCPP stations from one process: boot, status, heartbeats and charging sessions with meter values,
for S real seconds; prints messages/s, acknowledgement latency p50/p95/p99 and errors.

  --stations N             stations (1 to 100000)
  --duration S             real seconds of load (1 to 86400)
  --protocol P             ocpp1.6 (default), ocpp2.0.1 or mixed (odd stations 1.6, even ones 2.0.1)
  --url URL[,URL...]       CSMS endpoint ws://host:port/ocpp; without it Voltbill runs in-process
                           (on DATABASE_URL when set, else the embedded database in memory) with the fleet registered.
                           Several (a cluster's nodes): station n connects first to URL n mod k, each reconnect to
                           the next one, as behind a load balancer
  --provision              with --url: register the fleet in DATABASE_URL's database first
  --meter-interval S       real seconds between meter values (default 10; 0 = next as soon as acknowledged)
  --samples N              meter values per session (default 6)
  --idle S                 mean real seconds between sessions (default 10)
  --no-sessions            stations only boot, report status and heartbeat
  --heartbeat-interval S   heartbeat every S real seconds (default: the interval of the boot answer)
  --connect-rate R         new connections per second (default 500)
  --reconnect-storm-at S   at second S every station drops its connection and reconnects
  --storm-window S         the storm's reconnects spread over S seconds (default 10)
  --station-prefix P       station ids P00001.. (default LOAD-); --first-station N (default 1)
  --id-tag-prefix P        idTags P000001.. (default LT)
  --password P             HTTP Basic auth password of every station (security profile 1, or 2 with wss://)
  --ca FILE                PEM CA certificate that signed the server's certificate (wss://, profiles 2 and 3)
  --client-cert FILE --client-key FILE
                           PEM client certificate and key (profile 3)
  --call-timeout-ms MS     real ms a call waits for its answer (default 30000)
  --drain-timeout S        seconds allowed after the duration to end sessions (default 60)
  --warmup S               seconds after every station is online before measuring (default 0; within the duration)
  --duplicate-stops R      share (0..1) of sessions whose final message is sent twice (default 0)
  --late-meter-values R    share (0..1) of sessions sending a meter value after their final message (default 0)
  --swapped-meter-values R share (0..1) of sessions sending two consecutive meter values in swapped order (default 0)
  --stale-statuses R       share (0..1) of sessions followed by an older status after their Available (default 0)
  --signed                 each station's meter signs the register at every session's begin and end (OCMF, P-256,
                           its public key sent with the data), as an Eichrecht meter does
  --seed N                 seed of the stations' random choices
  --json                   print the report as JSON on stdout
  --quiet                  no progress lines
`;

const NUMERIC_FLAGS = {
  stations: 'stations',
  duration: 'durationS',
  'meter-interval': 'meterIntervalS',
  samples: 'samplesPerSession',
  idle: 'idleS',
  'heartbeat-interval': 'heartbeatIntervalS',
  'connect-rate': 'connectRatePerS',
  'reconnect-storm-at': 'reconnectStormAtS',
  'storm-window': 'stormWindowS',
  'first-station': 'firstStation',
  'call-timeout-ms': 'callTimeoutMs',
  'drain-timeout': 'drainTimeoutS',
  warmup: 'warmupS',
  'duplicate-stops': 'duplicateStopRate',
  'late-meter-values': 'lateMeterValueRate',
  'swapped-meter-values': 'swappedMeterValueRate',
  'stale-statuses': 'staleStatusRate',
  seed: 'seed',
} as const satisfies Record<string, keyof LoadOptions>;

export const LOAD_FLAG_OF_OPTION: Partial<Record<keyof LoadOptions, string>> = {
  url: '--url',
  stationPrefix: '--station-prefix',
  idTagPrefix: '--id-tag-prefix',
  protocol: '--protocol',
  ...Object.fromEntries(Object.entries(NUMERIC_FLAGS).map(([flag, option]) => [option, `--${flag}`])),
};

export function parseLoadArgs(argv: readonly string[]): Result<ParsedLoadArgs, { message: string }> {
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (error) {
    return err({ message: (error as Error).message });
  }
  const { values } = parsed;
  if (values.help) return ok({ help: true });
  if (values.stations === undefined) return err({ message: '--stations is required' });
  if (values.duration === undefined) return err({ message: '--duration is required' });
  const numbers: Partial<Record<(typeof NUMERIC_FLAGS)[keyof typeof NUMERIC_FLAGS], number>> = {};
  for (const [flag, option] of Object.entries(NUMERIC_FLAGS)) {
    const raw = values[flag as keyof typeof NUMERIC_FLAGS];
    if (raw === undefined) continue;
    const value = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(value)) return err({ message: `--${flag} must be a number (got ${raw})` });
    numbers[option] = value;
  }
  const protocol = values.protocol ?? 'ocpp1.6';
  if (!LOAD_PROTOCOL_CHOICES.includes(protocol as LoadProtocolChoice)) {
    return err({ message: `--protocol must be one of ${LOAD_PROTOCOL_CHOICES.join(', ')} (got ${protocol})` });
  }
  if ((values['client-cert'] === undefined) !== (values['client-key'] === undefined)) {
    return err({ message: '--client-cert and --client-key go together' });
  }
  if (values.provision && values.url === undefined) return err({ message: '--provision needs --url' });
  const options: Omit<LoadOptions, 'url'> = {
    ...numbers,
    stations: numbers.stations as number,
    durationS: numbers.durationS as number,
    protocol: protocol as LoadProtocolChoice,
    ...(values['no-sessions'] && { sessions: false }),
    ...(values.signed && { signed: true }),
    ...(values['station-prefix'] !== undefined && { stationPrefix: values['station-prefix'] }),
    ...(values['id-tag-prefix'] !== undefined && { idTagPrefix: values['id-tag-prefix'] }),
    ...(values.password !== undefined && { password: values.password }),
  };
  // Validate every value now, with a placeholder URL when the command starts its own server.
  const check = resolveLoadOptions({ ...options, url: values.url ?? 'ws://127.0.0.1/ocpp' }, () => 0);
  if (!check.ok) {
    const flag = LOAD_FLAG_OF_OPTION[check.error.option] ?? check.error.option;
    return err({ message: `${flag} ${check.error.message}` });
  }
  return ok({
    help: false,
    options: { ...options, url: values.url },
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    provision: values.provision ?? false,
    caFile: values.ca,
    clientCertFile: values['client-cert'],
    clientKeyFile: values['client-key'],
  });
}

function parseWithNode(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      url: { type: 'string' },
      protocol: { type: 'string' },
      provision: { type: 'boolean' },
      'no-sessions': { type: 'boolean' },
      signed: { type: 'boolean' },
      'station-prefix': { type: 'string' },
      'id-tag-prefix': { type: 'string' },
      password: { type: 'string' },
      ca: { type: 'string' },
      'client-cert': { type: 'string' },
      'client-key': { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      ...Object.fromEntries(Object.keys(NUMERIC_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    } as const,
  }) as {
    values: Partial<Record<keyof typeof NUMERIC_FLAGS, string>> & {
      help?: boolean;
      url?: string;
      protocol?: string;
      provision?: boolean;
      'no-sessions'?: boolean;
      signed?: boolean;
      'station-prefix'?: string;
      'id-tag-prefix'?: string;
      password?: string;
      ca?: string;
      'client-cert'?: string;
      'client-key'?: string;
      json?: boolean;
      quiet?: boolean;
    };
  };
}
