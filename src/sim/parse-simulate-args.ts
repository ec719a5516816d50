/**
 * Reads the arguments of `voltbill simulate` with node's util.parseArgs into SimulationOptions. Pure: an invalid
 * argument is an error naming the flag, never a guess.
 */
import { parseArgs } from 'node:util';
import { err, ok, type Result } from '../shared/result.ts';
import {
  DEFAULT_CONNECT_RATE_PER_S,
  DEFAULT_FIRST_STATION,
  DEFAULT_MAX_POWER_W,
  DEFAULT_METER_INTERVAL_S,
  DEFAULT_SPEED_FACTOR,
  DEFAULT_STATION_PREFIX,
  resolveSimulationOptions,
  type SimulationOptions,
} from './simulation-options.ts';

export interface SimulateCommandArgs {
  readonly options: SimulationOptions;
  /** PEM files the command reads into `options.tls`. */
  readonly tlsFiles?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Print the summary as JSON on stdout instead of the table. */
  readonly json: boolean;
  /** No progress bar and no log lines. */
  readonly quiet: boolean;
}

export type ParsedSimulateArgs = { readonly help: true } | ({ readonly help: false } & SimulateCommandArgs);

export interface ArgumentError {
  readonly flag: string;
  readonly message: string;
}

/** The flag of each option, for error messages. */
export const FLAG_OF_OPTION: Readonly<Record<keyof SimulationOptions, string>> = {
  url: '--url',
  stations: '--stations',
  sessionsPerStation: '--sessions',
  speedFactor: '--speed',
  meterIntervalS: '--meter-interval',
  maxPowerW: '--max-power-w',
  seed: '--seed',
  idTags: '--id-tags',
  stationPrefix: '--station-prefix',
  firstStation: '--first-station',
  password: '--password',
  protocol: '--protocol',
  tls: '--ca',
  connectRatePerS: '--connect-rate',
  callTimeoutMs: '--call-timeout-ms',
  reconnectDelayMs: '--reconnect-delay-ms',
  stayConnected: '--stay-connected',
  signal: '--signal',
};

export const SIMULATE_USAGE = `Usage: voltbill simulate --url URL --stations N --sessions M [options]

Simulated OCPP 1.6J or 2.0.1 charging stations run charging sessions against a CSMS, on a compressed clock.

  --url URL              CSMS endpoint, ws:// or wss:// (stations connect to URL/STATION_ID)
  --stations N           number of stations
  --sessions M           planned sessions per station
  --speed X              simulated seconds per real second (default ${DEFAULT_SPEED_FACTOR})
  --meter-interval S     simulated seconds between MeterValues (default ${DEFAULT_METER_INTERVAL_S})
  --max-power-w W        station maximum power in W (default ${DEFAULT_MAX_POWER_W})
  --seed N               plan seed, 0..4294967295 (default random; printed in the summary)
  --id-tags A,B,...      idTags, assigned to stations in turn (default DEMO0001..DEMO0010)
  --station-prefix P     station id prefix (default ${DEFAULT_STATION_PREFIX}; ids are P0001, P0002, ...)
  --first-station N      number of the first station (default ${DEFAULT_FIRST_STATION})
  --protocol P           ocpp1.6 (default), ocpp2.0.1, or mixed (odd stations 1.6, even ones 2.0.1)
  --password P           HTTP Basic auth password (security profile 1, or 2 with wss://)
  --ca FILE              PEM CA certificate of the server (wss://, security profiles 2 and 3)
  --client-cert FILE     PEM client certificate (security profile 3), with --client-key FILE
  --connect-rate R       new connections per second while connecting (default ${DEFAULT_CONNECT_RATE_PER_S})
  --call-timeout-ms MS   real time a call waits for its answer (default 30000)
  --json                 print the summary as JSON on stdout
  --quiet                no progress bar, no log lines
  -h, --help             this text

Exit status: 0 when every session completed or was refused by the CSMS, 1 when any failed, 2 on bad arguments.
`;

const NUMBER_FLAGS = {
  stations: 'stations',
  sessions: 'sessionsPerStation',
  speed: 'speedFactor',
  'meter-interval': 'meterIntervalS',
  'max-power-w': 'maxPowerW',
  seed: 'seed',
  'first-station': 'firstStation',
  'connect-rate': 'connectRatePerS',
  'call-timeout-ms': 'callTimeoutMs',
} as const satisfies Record<string, keyof SimulationOptions>;

export function parseSimulateArgs(argv: readonly string[]): Result<ParsedSimulateArgs, ArgumentError> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        ...Object.fromEntries(Object.keys(NUMBER_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
        'id-tags': { type: 'string' },
        'station-prefix': { type: 'string' },
        password: { type: 'string' },
        protocol: { type: 'string' },
        ca: { type: 'string' },
        'client-cert': { type: 'string' },
        'client-key': { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs names the offending flag in its message ("Unknown option '--statons'").
    const message = (error as Error).message;
    return err({ flag: /'(-[^']+)'/.exec(message)?.[1] ?? 'arguments', message });
  }
  if (values.help === true) return ok({ help: true });
  for (const flag of ['url', 'stations', 'sessions']) {
    if (values[flag] === undefined) return err({ flag: `--${flag}`, message: `--${flag} is required` });
  }
  const numbers: Partial<Record<(typeof NUMBER_FLAGS)[keyof typeof NUMBER_FLAGS], number>> = {};
  for (const [flag, option] of Object.entries(NUMBER_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    if (!/^\d+(\.\d+)?$/.test(raw.trim())) {
      return err({
        flag: `--${flag}`,
        message: `--${flag} must be a non-negative number (got ${JSON.stringify(raw)})`,
      });
    }
    numbers[option] = Number(raw);
  }
  const idTags =
    typeof values['id-tags'] === 'string' ? values['id-tags'].split(',').map((tag) => tag.trim()) : undefined;
  const options: SimulationOptions = {
    url: String(values.url),
    stations: numbers.stations ?? 0,
    sessionsPerStation: numbers.sessionsPerStation ?? 0,
    ...numbers,
    ...(idTags !== undefined && { idTags }),
    ...(typeof values['station-prefix'] === 'string' && { stationPrefix: values['station-prefix'] }),
    ...(typeof values.password === 'string' && { password: values.password }),
    ...(typeof values.protocol === 'string' && { protocol: values.protocol as SimulationOptions['protocol'] }),
  };
  if ((typeof values['client-cert'] === 'string') !== (typeof values['client-key'] === 'string')) {
    return err({ flag: '--client-cert', message: '--client-cert and --client-key go together' });
  }
  const tlsFiles = {
    ...(typeof values.ca === 'string' && { ca: values.ca }),
    ...(typeof values['client-cert'] === 'string' && { cert: values['client-cert'] }),
    ...(typeof values['client-key'] === 'string' && { key: values['client-key'] }),
  };
  // The same checks runSimulation makes, reported here with the flag's name.
  const resolved = resolveSimulationOptions(options, () => 0);
  if (!resolved.ok) {
    const flag = FLAG_OF_OPTION[resolved.error.option];
    return err({ flag, message: `${flag} ${resolved.error.message}` });
  }
  return ok({
    help: false,
    options,
    json: values.json === true,
    quiet: values.quiet === true,
    ...(Object.keys(tlsFiles).length > 0 && { tlsFiles }),
  });
}
