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
  VOLTBILL_OCPP_TLS_PORT: {
    schema: port.optional(),
    default: undefined,
    doc: 'Port of the TLS endpoint wss://HOST:PORT/ocpp/{stationId} (security profiles 2 and 3). Unset: no TLS endpoint. Needs VOLTBILL_OCPP_TLS_CERT and VOLTBILL_OCPP_TLS_KEY.',
  },
  VOLTBILL_OCPP_TLS_CERT: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: "PEM file of the operator's OCPP server certificate (with its chain).",
  },
  VOLTBILL_OCPP_TLS_KEY: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'PEM file of the private key of the OCPP server certificate.',
  },
  VOLTBILL_OCPP_TLS_CA: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'PEM file of the CA that issues station client certificates (security profile 3). Unset: no station can use profile 3.',
  },
  VOLTBILL_OCPP_MIN_SECURITY_PROFILE: {
    schema: z.coerce.number().int().min(0).max(3),
    default: '0',
    doc: 'Lowest OCPP security profile any station may connect with; stations with a higher profile keep theirs. 0 lets unknown and unsecured stations connect (development and demo only): set 1 or higher in production.',
  },
  VOLTBILL_OCPP_MAX_MESSAGES_PER_S: {
    schema: positiveInt.max(10_000),
    default: '50',
    doc: 'Requests per second one station may send on average (bursts up to one second of them). A station over it is slowed down: its requests wait their turn and are answered at this rate. A station that does not wait for answers gets GenericError for what neither the wait (16 requests) nor its queue (16 behind the one being processed) holds; refusals at the wait count as bad messages.',
  },
  VOLTBILL_OCPP_MAX_PENDING_CONNECTIONS_PER_IP: {
    schema: positiveInt.max(100_000),
    default: '20',
    doc: 'Connections one address may hold open before they authenticate; more are closed at once.',
  },
  VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_STATION: {
    schema: positiveInt.max(100_000),
    default: '10',
    doc: 'Failed authentications of one station id within VOLTBILL_OCPP_AUTH_FAILURE_WINDOW_S after which its connections are refused (HTTP 429) until the window passes.',
  },
  VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_IP: {
    schema: positiveInt.max(100_000),
    default: '30',
    doc: 'Failed authentications from one address within the window after which its connections are refused (HTTP 429).',
  },
  VOLTBILL_OCPP_AUTH_FAILURE_WINDOW_S: {
    schema: positiveInt.max(86_400),
    default: '300',
    doc: 'Sliding window (seconds) of the failed-authentication limits.',
  },
  VOLTBILL_OCPP_COST_UPDATE_INTERVAL_S: {
    schema: z.coerce.number().int().min(0).max(86_400),
    default: '60',
    doc: 'OCPP 2.0.1: least charging time (seconds, by the meter readings) between two CostUpdated messages with the running cost of a session. 0 = no running cost.',
  },
  VOLTBILL_OCPP_TX_GAP_WAIT_S: {
    schema: positiveInt.max(7 * 86_400),
    default: '900',
    doc: 'OCPP 2.0.1: how long an Ended TransactionEvent waits for missing earlier events (seqNo gaps) before the session is ended and billed without them.',
  },
  VOLTBILL_MAX_SAMPLES_PER_SESSION: {
    schema: positiveInt.max(1_000_000),
    default: '20000',
    doc: 'Meter samples stored per session; further samples are refused (logged) so a runaway station cannot fill the disk.',
  },
  VOLTBILL_PLAUSIBILITY_POWER_MARGIN_PERCENT: {
    schema: z.coerce.number().int().min(0).max(100),
    default: '10',
    doc: "Plausibility: percent by which the power implied by two meter readings may exceed the EVSE's rated power before the session is held.",
  },
  VOLTBILL_PLAUSIBILITY_MAX_GAP_S: {
    schema: positiveInt.max(7 * 86_400),
    default: '1800',
    doc: 'Plausibility: longest interval (seconds) without a meter reading in a session before it is flagged.',
  },
  VOLTBILL_PLAUSIBILITY_CLOCK_SKEW_S: {
    schema: z.coerce.number().int().min(0).max(86_400),
    default: '300',
    doc: "Plausibility: how far (seconds) a station's timestamps may lie in the future or before the session's start.",
  },
  VOLTBILL_PLAUSIBILITY_ENERGY_TOLERANCE_WH: {
    schema: z.coerce.number().int().min(0).max(1_000_000),
    default: '1',
    doc: "Plausibility: largest difference (Wh) between the transaction's meterStart/meterStop and the sampled register that is accepted.",
  },
  VOLTBILL_PLAUSIBILITY_SEVERITIES: {
    schema: z
      .string()
      .regex(
        /^\s*[A-Za-z]+\s*=\s*(info|warn|hold)\s*(,\s*[A-Za-z]+\s*=\s*(info|warn|hold)\s*)*$/,
        'must be rule=severity pairs, comma-separated (severity info, warn or hold)',
      )
      .optional(),
    default: undefined,
    doc: 'Plausibility: severities that differ from the defaults, e.g. `meterStartBelowPrevious=hold,sampleGap=info` (rules in docs/metering.md).',
  },
  VOLTBILL_RECONCILE_INTERVAL_S: {
    schema: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 86_400),
    default: '3600',
    doc: 'How often the server runs the reconciliation job (seconds); its last result is on /metrics. 0 = never.',
  },
  VOLTBILL_NODE_ID: {
    schema: z
      .string()
      .regex(/^[a-z0-9_]{1,40}$/, 'must be 1 to 40 characters of a-z 0-9 _')
      .optional(),
    default: undefined,
    doc: 'Name of this node in a cluster of nodes on one PostgreSQL (station presence, logs). Unset: node_ plus a random suffix per start.',
  },
  VOLTBILL_DATABASE_PREPARED_STATEMENTS: {
    schema: booleanFlag,
    default: 'true',
    doc: 'PostgreSQL: send parameterized statements as named prepared statements, parsed and planned once per connection (src/db/prepared-statements.ts). false for PgBouncer in transaction mode before 1.21, which cannot keep them.',
  },
  VOLTBILL_DATABASE_POOL_SIZE: {
    schema: positiveInt.max(1_000),
    default: '10',
    doc: "PostgreSQL: connections each `voltbill serve` node keeps in its pool (the cluster listener takes one more). Every node's pool plus the listeners must fit in the server's max_connections. Fewer connections than concurrent requests is usual: on a 2-core host 4-6 cost PostgreSQL 12-20 % less CPU per paid session than 10 (BENCHMARKS.md).",
  },
  VOLTBILL_DATABASE_LISTEN_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    default: undefined,
    doc: 'PostgreSQL: a direct connection URL for the cluster listener (LISTEN/NOTIFY), when DATABASE_URL goes through a pooler in transaction mode (pgbouncer), which cannot LISTEN. Unset: DATABASE_URL.',
  },
  VOLTBILL_CLUSTER_HEARTBEAT_S: {
    schema: positiveInt.max(300),
    default: '5',
    doc: "PostgreSQL: how often a node renews its liveness and its stations' presence (seconds).",
  },
  VOLTBILL_CLUSTER_NODE_TTL_S: {
    schema: positiveInt.max(3600),
    default: '20',
    doc: 'PostgreSQL: a node that has not renewed its liveness for this long (seconds) counts as dead: its stations are offline and its job claims lapse. More than twice the heartbeat.',
  },
  VOLTBILL_ROUNDING: {
    schema: z.enum(['half-up', 'half-even']),
    default: 'half-up',
    doc: 'Rounding mode of priced lines for operators created by the seed (each operator has its own setting).',
  },
  VOLTBILL_MASTER_KEY: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Master key(s) wrapping the data encryption keys: `id:base64` (32 bytes), comma-separated, first is current. Unset: the key file.',
  },
  VOLTBILL_MASTER_KEY_FILE: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Key file holding the master keys (JSON, mode 0600; generated on first start). Unset: master-key.json in VOLTBILL_DATA_DIR.',
  },
  VOLTBILL_CORS_ORIGINS: {
    schema: z.string().optional(),
    default: undefined,
    doc: 'Comma-separated origins allowed to call the API from a browser (e.g. https://app.example.com). Unset: none.',
  },
  VOLTBILL_ACCESS_TOKEN_TTL_S: {
    schema: positiveInt.max(3600),
    default: '900',
    doc: 'Lifetime (seconds) of a signed access token after sign-in or refresh.',
  },
  VOLTBILL_REFRESH_TOKEN_TTL_S: {
    schema: positiveInt.max(90 * 86_400),
    default: '2592000',
    doc: 'Lifetime (seconds) of a sign-in (its refresh tokens rotate on every use within it).',
  },
  VOLTBILL_RATE_LIMIT_PER_IP: {
    schema: positiveInt.max(1_000_000),
    default: '600',
    doc: 'Requests per minute one client address may send to the HTTP API; more get 429.',
  },
  VOLTBILL_RATE_LIMIT_PER_KEY: {
    schema: positiveInt.max(1_000_000),
    default: '1200',
    doc: 'Requests per minute one API key or signed-in user may send; more get 429.',
  },
  VOLTBILL_RATE_LIMIT_STORE: {
    schema: z.enum(['auto', 'memory', 'database']),
    default: 'auto',
    doc: 'Where rate-limit counters live: `database` (PostgreSQL, one limit shared by all nodes), `memory` (per node), `auto` (database when DATABASE_URL is set).',
  },
  VOLTBILL_PAYMENT_PROVIDER: {
    schema: z.enum(['sandbox', 'stripe']),
    default: 'sandbox',
    doc: 'Card payment provider: `sandbox` (built-in SANDBOX processor, no real money) or `stripe` (needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET).',
  },
  STRIPE_SECRET_KEY: {
    schema: z
      .string()
      .regex(/^(sk|rk)_(test|live)_/, 'must be a Stripe secret or restricted key')
      .optional(),
    default: undefined,
    doc: 'Stripe secret key (sk_live_... or sk_test_...), used when VOLTBILL_PAYMENT_PROVIDER=stripe.',
  },
  STRIPE_API_URL: {
    schema: z
      .string()
      .refine(isApiBaseUrl, 'must be http(s)://host[:port] with no path, query or credentials')
      .optional(),
    default: undefined,
    doc: "Base URL of the Stripe API (http(s)://host[:port]). Unset: https://api.stripe.com. For stripe-mock, an egress proxy, or the crash test's fault-injecting Stripe-shaped server.",
  },
  STRIPE_TIMEOUT_MS: {
    schema: positiveInt.max(120_000),
    default: '20000',
    doc: 'How long one Stripe API call may take before Voltbill gives up on it and resolves the outcome by asking Stripe under the same idempotency key. Also sets how long a payment step is leased to one worker: 6 × (this + the time a call may wait for its slot under STRIPE_REQUESTS_PER_SECOND, half this, at most 10 s) + 30 s (at least 60 s).',
  },
  STRIPE_REQUESTS_PER_SECOND: {
    schema: positiveInt.max(10_000).optional(),
    default: undefined,
    doc: "Calls a second this node sends to Stripe on average (at most 1.2 × this in any second); a call over the rate waits for its slot (at most half of STRIPE_TIMEOUT_MS and 10 s, else it is retried later) instead of being answered 429. Stripe's limit is per account (100/s live, 25/s test): unset, 80 with a live key and 20 with a test key, for one node; with several nodes on one account, divide. Each endpoint (25/s at Stripe) and the Search API (20/s) get the same share of their own limits.",
  },
  STRIPE_WEBHOOK_SECRET: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Signing secret(s) of the Stripe webhook endpoint (whsec_...), comma-separated while rotating. Without it the webhook endpoint does not start.',
  },
  VOLTBILL_SANDBOX_WEBHOOK_SECRET: {
    schema: z.string().min(16).optional(),
    default: undefined,
    doc: 'Secret the SANDBOX provider signs its webhooks with. Unset: a random secret per start (both ends are in-process).',
  },
  VOLTBILL_PAYMENT_HOLD_MINOR: {
    schema: positiveInt,
    default: '5000',
    doc: 'Default hold at session start, in minor units of the session currency (5000 = 50.00 EUR); a token may set its own.',
  },
  VOLTBILL_PAYMENT_HOLD_MAX_MINOR: {
    schema: positiveInt,
    default: '15000',
    doc: 'Largest hold ever placed (minor units): per-token holds are capped to it.',
  },
  VOLTBILL_PAYMENT_MAX_ATTEMPTS: {
    schema: positiveInt.max(100),
    default: '32',
    doc: 'Provider calls per payment step before it fails and goes to dunning (unknown outcomes and 5xx are retried with backoff; with the default base the 32 attempts span about 21 hours, so a provider outage shorter than that fails no payment; no step is sent again after 23 hours, whatever this says).',
  },
  VOLTBILL_PAYMENT_RETRY_BASE_MS: {
    schema: positiveInt.max(3_600_000),
    default: '2000',
    doc: 'First retry delay of a failed provider call; doubles per attempt, capped at one hour.',
  },
  VOLTBILL_PAYMENT_BLOCK_AFTER_FAILURES: {
    schema: positiveInt.max(100),
    default: '3',
    doc: 'Failed payments after which a saved card is blocked (unblocked when the driver pays).',
  },
  VOLTBILL_PAYMENT_WORKER_INTERVAL_MS: {
    schema: positiveInt.max(600_000),
    default: '1000',
    doc: 'How often the payment worker looks for due provider calls, holds to place, renew or release.',
  },
  VOLTBILL_PAYMENT_WORKER_CONCURRENCY: {
    schema: positiveInt.max(256).optional(),
    default: undefined,
    doc: 'Payment outbox items (provider calls) one node works at once, each in a lane of its own while it waits on the provider. Unset: 32 with Stripe (about 300-500 ms a call: 32 lanes keep 64-100 calls a second going, more than STRIPE_REQUESTS_PER_SECOND lets out), 8 with the SANDBOX (in-process, no wait: more lanes only compete with the stations for the CPU).',
  },
  VOLTBILL_PAY_LINK_SECRET: {
    schema: z.string().min(32).optional(),
    default: undefined,
    doc: 'Secret signing the short-lived ad-hoc QR tokens and pay links. Unset: random per start (links die on restart).',
  },
  VOLTBILL_PAY_LINK_TTL_S: {
    schema: positiveInt.max(30 * 86_400),
    default: '900',
    doc: 'Lifetime (seconds) of an ad-hoc QR token; a screen or app shows a fresh one, so a sticker copy expires.',
  },
  VOLTBILL_WALLET_MIN_START_MINOR: {
    schema: positiveInt,
    default: '500',
    doc: 'Least prepaid wallet balance (minor units of the wallet currency) a session needs to start; a running wallet session is stopped remotely when its running cost reaches the balance.',
  },
  VOLTBILL_VELOCITY_STARTS_PER_TOKEN_PER_HOUR: {
    schema: positiveInt.max(1000),
    default: '6',
    doc: 'Fraud limit: accepted session starts per id token with a payment profile (card, wallet, invoice) within any hour; more are refused (Blocked) and recorded.',
  },
  VOLTBILL_VELOCITY_STARTS_PER_CARD_PER_HOUR: {
    schema: positiveInt.max(1000),
    default: '10',
    doc: 'Fraud limit: accepted session starts per saved payment method (all its tokens) within any hour.',
  },
  VOLTBILL_DUNNING_LINK_TTL_S: {
    schema: positiveInt.max(30 * 86_400),
    default: '604800',
    doc: 'Lifetime (seconds) of the signed link in a dunning notice with which a driver pays a failed payment.',
  },
  VOLTBILL_NOTIFY_MAX_ATTEMPTS: {
    schema: positiveInt.max(50),
    default: '8',
    doc: 'Delivery attempts of one notification to one operator webhook endpoint (exponential backoff) before it is marked failed.',
  },
  VOLTBILL_NOTIFY_TIMEOUT_MS: {
    schema: positiveInt.max(60_000),
    default: '5000',
    doc: 'Timeout (milliseconds) of one webhook delivery request to an operator endpoint.',
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
  ocppTlsPort: number | undefined;
  ocppTlsCert: string | undefined;
  ocppTlsKey: string | undefined;
  ocppTlsCa: string | undefined;
  ocppMinSecurityProfile: number;
  ocppMaxMessagesPerS: number;
  ocppMaxPendingConnectionsPerIp: number;
  ocppMaxAuthFailuresPerStation: number;
  ocppMaxAuthFailuresPerIp: number;
  ocppAuthFailureWindowS: number;
  ocppCostUpdateIntervalS: number;
  ocppTxGapWaitS: number;
  rounding: 'half-up' | 'half-even';
  reconcileIntervalS: number;
  /** Cluster (PostgreSQL only): this node's name, liveness heartbeat and time to live. */
  nodeId: string | undefined;
  databaseListenUrl: string | undefined;
  databasePreparedStatements: boolean;
  databasePoolSize: number;
  clusterHeartbeatS: number;
  clusterNodeTtlS: number;
  plausibility: Readonly<{
    powerMarginPercent: number;
    maxGapS: number;
    clockSkewS: number;
    energyToleranceWh: number;
    severities: string | undefined;
  }>;
  payments: Readonly<{
    provider: 'sandbox' | 'stripe';
    stripeSecretKey: string | undefined;
    /** STRIPE_API_URL split the way the Stripe SDK takes it; undefined = Stripe's own API. */
    stripeApi: Readonly<{ host: string; port: number; protocol: 'http' | 'https' }> | undefined;
    stripeTimeoutMs: number;
    /** undefined: by the key's mode (src/payments/stripe/request-pacer.ts). */
    stripeRequestsPerSecond: number | undefined;
    stripeWebhookSecrets: readonly string[];
    sandboxWebhookSecret: string | undefined;
    holdMinor: bigint;
    holdMaxMinor: bigint;
    maxAttempts: number;
    retryBaseMs: number;
    blockAfterFailures: number;
    workerIntervalMs: number;
    workerConcurrency: number | undefined;
    payLinkSecret: string | undefined;
    payLinkTtlS: number;
    walletMinStartMinor: bigint;
    velocityStartsPerTokenPerHour: number;
    velocityStartsPerCardPerHour: number;
    dunningLinkTtlS: number;
    notifyMaxAttempts: number;
    notifyTimeoutMs: number;
  }>;
  masterKey: string | undefined;
  masterKeyFile: string;
  corsOrigins: string[];
  accessTokenTtlS: number;
  refreshTokenTtlS: number;
  rateLimitPerIp: number;
  rateLimitPerKey: number;
  rateLimitStore: 'auto' | 'memory' | 'database';
}>;

/** An API base URL: http(s), a host, an optional port, nothing else (the SDK takes host, port and protocol only). */
function isApiBaseUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.hostname !== '' &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === ''
  );
}

function apiBaseOf(raw: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(raw);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port),
    protocol,
  };
}

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
    ocppTlsPort: v.VOLTBILL_OCPP_TLS_PORT,
    ocppTlsCert: v.VOLTBILL_OCPP_TLS_CERT && path.resolve(cwd, v.VOLTBILL_OCPP_TLS_CERT),
    ocppTlsKey: v.VOLTBILL_OCPP_TLS_KEY && path.resolve(cwd, v.VOLTBILL_OCPP_TLS_KEY),
    ocppTlsCa: v.VOLTBILL_OCPP_TLS_CA && path.resolve(cwd, v.VOLTBILL_OCPP_TLS_CA),
    ocppMinSecurityProfile: v.VOLTBILL_OCPP_MIN_SECURITY_PROFILE,
    ocppMaxMessagesPerS: v.VOLTBILL_OCPP_MAX_MESSAGES_PER_S,
    ocppMaxPendingConnectionsPerIp: v.VOLTBILL_OCPP_MAX_PENDING_CONNECTIONS_PER_IP,
    ocppMaxAuthFailuresPerStation: v.VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_STATION,
    ocppMaxAuthFailuresPerIp: v.VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_IP,
    ocppAuthFailureWindowS: v.VOLTBILL_OCPP_AUTH_FAILURE_WINDOW_S,
    ocppCostUpdateIntervalS: v.VOLTBILL_OCPP_COST_UPDATE_INTERVAL_S,
    ocppTxGapWaitS: v.VOLTBILL_OCPP_TX_GAP_WAIT_S,
    rounding: v.VOLTBILL_ROUNDING,
    reconcileIntervalS: v.VOLTBILL_RECONCILE_INTERVAL_S,
    nodeId: v.VOLTBILL_NODE_ID,
    databaseListenUrl: v.VOLTBILL_DATABASE_LISTEN_URL,
    databasePreparedStatements: v.VOLTBILL_DATABASE_PREPARED_STATEMENTS,
    databasePoolSize: v.VOLTBILL_DATABASE_POOL_SIZE,
    clusterHeartbeatS: v.VOLTBILL_CLUSTER_HEARTBEAT_S,
    clusterNodeTtlS: v.VOLTBILL_CLUSTER_NODE_TTL_S,
    plausibility: Object.freeze({
      powerMarginPercent: v.VOLTBILL_PLAUSIBILITY_POWER_MARGIN_PERCENT,
      maxGapS: v.VOLTBILL_PLAUSIBILITY_MAX_GAP_S,
      clockSkewS: v.VOLTBILL_PLAUSIBILITY_CLOCK_SKEW_S,
      energyToleranceWh: v.VOLTBILL_PLAUSIBILITY_ENERGY_TOLERANCE_WH,
      severities: v.VOLTBILL_PLAUSIBILITY_SEVERITIES,
    }),
    payments: Object.freeze({
      provider: v.VOLTBILL_PAYMENT_PROVIDER,
      stripeSecretKey: v.STRIPE_SECRET_KEY,
      stripeApi: v.STRIPE_API_URL === undefined ? undefined : apiBaseOf(v.STRIPE_API_URL),
      stripeTimeoutMs: v.STRIPE_TIMEOUT_MS,
      stripeRequestsPerSecond: v.STRIPE_REQUESTS_PER_SECOND,
      stripeWebhookSecrets: (v.STRIPE_WEBHOOK_SECRET ?? '')
        .split(',')
        .map((secret) => secret.trim())
        .filter((secret) => secret !== ''),
      sandboxWebhookSecret: v.VOLTBILL_SANDBOX_WEBHOOK_SECRET,
      holdMinor: BigInt(v.VOLTBILL_PAYMENT_HOLD_MINOR),
      holdMaxMinor: BigInt(v.VOLTBILL_PAYMENT_HOLD_MAX_MINOR),
      maxAttempts: v.VOLTBILL_PAYMENT_MAX_ATTEMPTS,
      retryBaseMs: v.VOLTBILL_PAYMENT_RETRY_BASE_MS,
      blockAfterFailures: v.VOLTBILL_PAYMENT_BLOCK_AFTER_FAILURES,
      workerIntervalMs: v.VOLTBILL_PAYMENT_WORKER_INTERVAL_MS,
      workerConcurrency: v.VOLTBILL_PAYMENT_WORKER_CONCURRENCY,
      payLinkSecret: v.VOLTBILL_PAY_LINK_SECRET,
      payLinkTtlS: v.VOLTBILL_PAY_LINK_TTL_S,
      walletMinStartMinor: BigInt(v.VOLTBILL_WALLET_MIN_START_MINOR),
      velocityStartsPerTokenPerHour: v.VOLTBILL_VELOCITY_STARTS_PER_TOKEN_PER_HOUR,
      velocityStartsPerCardPerHour: v.VOLTBILL_VELOCITY_STARTS_PER_CARD_PER_HOUR,
      dunningLinkTtlS: v.VOLTBILL_DUNNING_LINK_TTL_S,
      notifyMaxAttempts: v.VOLTBILL_NOTIFY_MAX_ATTEMPTS,
      notifyTimeoutMs: v.VOLTBILL_NOTIFY_TIMEOUT_MS,
    }),
    masterKey: v.VOLTBILL_MASTER_KEY,
    masterKeyFile: path.resolve(cwd, v.VOLTBILL_MASTER_KEY_FILE ?? path.join(v.VOLTBILL_DATA_DIR, 'master-key.json')),
    corsOrigins: (v.VOLTBILL_CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    accessTokenTtlS: v.VOLTBILL_ACCESS_TOKEN_TTL_S,
    refreshTokenTtlS: v.VOLTBILL_REFRESH_TOKEN_TTL_S,
    rateLimitPerIp: v.VOLTBILL_RATE_LIMIT_PER_IP,
    rateLimitPerKey: v.VOLTBILL_RATE_LIMIT_PER_KEY,
    rateLimitStore: v.VOLTBILL_RATE_LIMIT_STORE,
  });
}
