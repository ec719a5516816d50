/**
 * The one configuration schema of Voltbill. It is the only reader of process.env: every other module receives the
 * parsed, frozen Config. Defaults make the embedded mode work with no settings at all.
 */
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** Each entry: environment variable → schema, default and the sentence shown in the README's configuration table. */
export const CONFIG_VARIABLES = {
  VOLTBILL_DATA_DIR: {
    schema: z.string().min(1),
    default: './.voltbill',
    doc: 'Folder of the embedded PGlite database (used when DATABASE_URL is unset). Kept across restarts.',
  },
  DATABASE_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    default: undefined,
    doc: 'PostgreSQL connection URL. Unset: the embedded database in VOLTBILL_DATA_DIR.',
  },
  VOLTBILL_HOST: {
    schema: z.string().min(1),
    default: '0.0.0.0',
    doc: 'Interface the OCPP and HTTP servers listen on.',
  },
  VOLTBILL_OCPP_PORT: {
    schema: port,
    default: '9000',
    doc: 'Port of the OCPP WebSocket endpoint ws://HOST:PORT/ocpp/{stationId}. 0 = pick a free port and print it.',
  },
  VOLTBILL_HTTP_PORT: {
    schema: port,
    default: '8080',
    doc: 'Port of the HTTP API (/health, /metrics, /api/v1). 0 = pick a free port and print it.',
  },
  VOLTBILL_PUBLIC_URL: {
    schema: z.string().url().optional(),
    default: undefined,
    doc: 'Base URL printed for operators (e.g. https://cpo.example.com). Unset: derived from host and ports.',
  },
  VOLTBILL_LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'Log level of the JSON logs (pino) on stdout.',
  },
  VOLTBILL_AUTO_REGISTER_STATIONS: {
    schema: booleanFlag,
    default: 'false',
    doc: 'true: an unknown station that boots is registered as Pending (an operator accepts it). false: Rejected.',
  },
  VOLTBILL_HEARTBEAT_INTERVAL_S: {
    schema: positiveInt.max(86_400),
    default: '300',
    doc: 'Heartbeat interval (seconds) returned in BootNotification.',
  },
  VOLTBILL_OCPP_MAX_FRAME_BYTES: {
    schema: positiveInt.max(16 * 1024 * 1024),
    default: '65536',
    doc: 'Largest OCPP frame accepted; a larger one is answered with FormationViolation (OCPP 1.6) and not processed.',
  },
  VOLTBILL_OCPP_MAX_BAD_MESSAGES: {
    schema: positiveInt.max(1000),
    default: '10',
    doc: 'Bad messages in a row (malformed, invalid, oversized) after which a station is disconnected.',
  },
  VOLTBILL_OCPP_CALL_TIMEOUT_MS: {
    schema: positiveInt.max(300_000),
    default: '30000',
    doc: 'How long a command sent to a station waits for its answer.',
  },
  VOLTBILL_MAX_SAMPLES_PER_SESSION: {
    schema: positiveInt.max(1_000_000),
    default: '20000',
    doc: 'Meter samples stored per session; further samples are refused (logged) so a runaway station cannot fill the disk.',
  },
  VOLTBILL_ROUNDING: {
    schema: z.enum(['half-up', 'half-even']),
    default: 'half-up',
    doc: 'Rounding mode of priced lines for operators created by the seed (each operator has its own setting).',
  },
} as const;

type Variables = typeof CONFIG_VARIABLES;
type Key = keyof Variables;

export type Config = Readonly<{
  dataDir: string;
  databaseUrl: string | undefined;
  host: string;
  ocppPort: number;
  httpPort: number;
  publicUrl: string | undefined;
  logLevel: z.infer<Variables['VOLTBILL_LOG_LEVEL']['schema']>;
  autoRegisterStations: boolean;
  heartbeatIntervalS: number;
  ocppMaxFrameBytes: number;
  ocppMaxBadMessages: number;
  ocppCallTimeoutMs: number;
  maxSamplesPerSession: number;
  rounding: 'half-up' | 'half-even';
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment (or any record of strings) into a frozen Config; invalid values name their variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const values: Partial<Record<Key, unknown>> = {};
  for (const key of Object.keys(CONFIG_VARIABLES) as Key[]) {
    const spec = CONFIG_VARIABLES[key];
    const raw = env[key] === undefined || env[key] === '' ? spec.default : env[key];
    const parsed = (spec.schema as z.ZodType).safeParse(raw);
    if (parsed.success) values[key] = parsed.data;
    else problems.push(`${key}=${JSON.stringify(env[key])}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const v = values as { [K in Key]: z.infer<Variables[K]['schema']> };
  return Object.freeze({
    dataDir: path.resolve(cwd, v.VOLTBILL_DATA_DIR),
    databaseUrl: v.DATABASE_URL,
    host: v.VOLTBILL_HOST,
    ocppPort: v.VOLTBILL_OCPP_PORT,
    httpPort: v.VOLTBILL_HTTP_PORT,
    publicUrl: v.VOLTBILL_PUBLIC_URL,
    logLevel: v.VOLTBILL_LOG_LEVEL,
    autoRegisterStations: v.VOLTBILL_AUTO_REGISTER_STATIONS,
    heartbeatIntervalS: v.VOLTBILL_HEARTBEAT_INTERVAL_S,
    ocppMaxFrameBytes: v.VOLTBILL_OCPP_MAX_FRAME_BYTES,
    ocppMaxBadMessages: v.VOLTBILL_OCPP_MAX_BAD_MESSAGES,
    ocppCallTimeoutMs: v.VOLTBILL_OCPP_CALL_TIMEOUT_MS,
    maxSamplesPerSession: v.VOLTBILL_MAX_SAMPLES_PER_SESSION,
    rounding: v.VOLTBILL_ROUNDING,
  });
}
