/**
 * What the benchmarks in bench/ share: a Voltbill server in the bench's own process on a chosen database (with the
 * load fleet registered), and the load generator in a child process, so that the server and the stations do not
 * share one event loop (on a 2-core machine each gets a core, PostgreSQL shares them).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { type RunningServer, startServer } from '../main.ts';
import { LOAD_PROTOCOL_CHOICES, type LoadProtocolChoice } from './load-protocol.ts';
import type { LoadReport } from './load-report.ts';
import { LOAD_TEST_LIMITS } from './load-test-limits.ts';
import { provisionFleet } from './provision-fleet.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type BenchDatabase = { kind: 'postgres'; url: string } | { kind: 'pglite' };

export interface BenchServer {
  readonly server: RunningServer;
  close(): Promise<void>;
}

export type BenchServerOptions = {
  /**
   * Every load station's card pays by a saved card (the built-in SANDBOX provider, Voltbill's stand-in for a card
   * network): a hold at each session's start, a capture by the payment worker after its stop, the provider's
   * webhooks back to Voltbill's endpoint. Without it the sessions are invoiced and booked but not paid.
   */
  readonly payByCard?: boolean;
  /** VOLTBILL_DATABASE_POOL_SIZE of the server (PostgreSQL); default: the server's default. */
  readonly databasePoolSize?: number;
  /**
   * With `payByCard`: pay through the Stripe adapter against a Stripe-shaped API at this base URL (another process,
   * bench/stripe-shaped-child.ts) instead of the built-in SANDBOX, with Stripe's test card `pm_card_visa` saved for
   * every load card. The node then does what it does in production: the `stripe` SDK's HTTP calls, no provider work.
   * Its webhooks are the caller's to connect (`webhookSecret` and the server's httpUrl).
   */
  readonly stripeApiUrl?: string;
  /**
   * With `stripeApiUrl`: the node's STRIPE_REQUESTS_PER_SECOND. Default 10,000 (the pacer's most: no limit a node
   * reaches), so that the figures are the node's own; a real account's limit is 100/s live (docs/payments.md).
   */
  readonly stripeRequestsPerSecond?: number;
  /** VOLTBILL_PAYMENT_WORKER_CONCURRENCY; default the node's (by provider: docs/payments.md). */
  readonly paymentWorkerConcurrency?: number;
};

/** Test-mode placeholders for the Stripe-shaped API, which checks only that a Bearer key is sent: not secrets. */
const BENCH_STRIPE_KEY = 'sk_test_voltbill_bench';
/** The signing secret the node's Stripe webhook endpoint verifies; the Stripe-shaped API signs with it. */
export const BENCH_STRIPE_WEBHOOK_SECRET = 'whsec_voltbill_bench';

/** Voltbill with demo data and `stations` load stations registered; PGlite in a fresh temporary folder (on disk). */
export async function startBenchServer(
  database: BenchDatabase,
  stations: number,
  options: BenchServerOptions = {},
): Promise<BenchServer> {
  const config = loadConfig({
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: '0',
    VOLTBILL_HTTP_PORT: '0',
    VOLTBILL_LOG_LEVEL: 'silent',
    ...LOAD_TEST_LIMITS,
    ...(options.databasePoolSize !== undefined && { VOLTBILL_DATABASE_POOL_SIZE: String(options.databasePoolSize) }),
    ...(options.paymentWorkerConcurrency !== undefined && {
      VOLTBILL_PAYMENT_WORKER_CONCURRENCY: String(options.paymentWorkerConcurrency),
    }),
    ...(options.stripeApiUrl !== undefined && {
      VOLTBILL_PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: BENCH_STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: BENCH_STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: options.stripeApiUrl,
      STRIPE_REQUESTS_PER_SECOND: String(options.stripeRequestsPerSecond ?? 10_000),
    }),
  });
  const dataDir = database.kind === 'pglite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'voltbill-bench-')) : undefined;
  const server = await startServer({
    config,
    seed: true,
    logger: pino({ level: 'silent' }),
    database: database.kind === 'postgres' ? database : { kind: 'pglite', dataDir: dataDir as string },
    command: 'bench',
  });
  const sandbox = server.payments.sandbox;
  if (options.payByCard && options.stripeApiUrl === undefined && !sandbox) {
    throw new Error('payByCard needs the SANDBOX provider (no Stripe configured)');
  }
  const stripe = options.payByCard && options.stripeApiUrl !== undefined;
  await provisionFleet(server.database.db, {
    stations,
    firstStation: 1,
    stationPrefix: 'LOAD-',
    idTagPrefix: 'LT',
    ...(stripe && {
      card: {
        provider: server.payments.provider,
        paymentMethodRef: 'pm_card_visa',
        ...(server.payments.ctx.cipher && { cipher: server.payments.ctx.cipher }),
      },
    }),
    ...(options.payByCard &&
      !stripe &&
      sandbox && {
        card: {
          provider: sandbox,
          paymentMethodRef: () => {
            const card = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' });
            if (!card.ok) throw new Error(`SANDBOX refused the test card: ${card.error.message}`);
            return card.value.paymentMethodRef;
          },
          ...(server.payments.ctx.cipher && { cipher: server.payments.ctx.cipher }),
        },
      }),
  });
  return {
    server,
    async close() {
      await server.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `voltbill load` arguments from named values, in the order given: `{ url, stations: 100, 'no-sessions': true }` gives
 * `['--url', url, '--stations', '100', '--no-sessions']` (a false flag is left out).
 */
export function loadFlags(flags: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(flags).flatMap(([name, value]) => {
    if (value === false) return [];
    return value === true ? [`--${name}`] : [`--${name}`, String(value)];
  });
}

/** Runs `voltbill load --json --quiet` with these arguments in a child process and returns its report. */
export function runLoadChild(
  args: readonly string[],
  options: { nodeArgs?: readonly string[] } = {},
): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), path.join(REPO_ROOT, 'bin/voltbill.js'), 'load', ...args, '--json', '--quiet'],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as LoadReport);
      } catch {
        reject(new Error(`voltbill load exited ${code}: ${stderr.slice(-2000)}`));
      }
    });
  });
}

/** Rows in a table, or null when the table does not exist (yet) in this database. */
export async function countRows(server: RunningServer, table: string): Promise<number | null> {
  const exists = await sql<{ found: boolean }>`select to_regclass(${table}) is not null as found`.execute(
    server.database.db,
  );
  if (!exists.rows[0]?.found) return null;
  const result = await sql<{ n: string | bigint }>`select count(*) as n from ${sql.table(table)}`.execute(
    server.database.db,
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** Reads `--name value` from argv as a number, else the default. */
export function numberFlag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index === -1) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number`);
  return value;
}

/** `--protocol ocpp1.6 | ocpp2.0.1 | mixed` (the stations' OCPP version, as `voltbill load`), default OCPP 1.6. */
export function protocolFlag(): LoadProtocolChoice {
  const index = process.argv.indexOf('--protocol');
  if (index === -1) return 'ocpp1.6';
  const value = process.argv[index + 1];
  const choice = LOAD_PROTOCOL_CHOICES.find((c) => c === value);
  if (!choice) throw new Error(`--protocol must be one of ${LOAD_PROTOCOL_CHOICES.join(', ')}`);
  return choice;
}

export function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** The machine and its load, printed at the top of every benchmark (figures mean little without them). */
export function describeMachine(): string {
  const cpus = os.cpus();
  const [one, five] = os.loadavg();
  return (
    `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.version}, load average ${one?.toFixed(1)} (1 min) ${five?.toFixed(1)} (5 min)`
  );
}

export function fmt(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}
