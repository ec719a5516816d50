/**
 * Crash and fault test: simulated stations charge while a fault hits again and again —
 *  - scenario `kill` (default): the server process (`node bin/voltbill.js serve`, a child) is killed with SIGKILL at
 *    random moments and restarted;
 *  - scenario `postgres-restart`: the PostgreSQL server is stopped the hard way (`pg_ctl -m immediate`, clients cut
 *    off), left down for up to 3 s and started again, while Voltbill keeps running.
 * In every scenario 10 % of the sessions send their final message twice (a station that lost the acknowledgement)
 * and 5 % deliver a meter value after their final message (reordered), unless told otherwise. Stations reconnect and
 * retry their transaction messages until acknowledged, as OCPP requires. Afterwards the database must show every
 * session billed exactly once with the energy the station measured, nothing left open, the ledger balanced and
 * invoice numbers without gaps; `voltbill reconcile --json` must be clean. Exit status 0 when every check holds.
 *
 * With --provider-faults every station's card pays by a saved Stripe test card (pm_card_visa): Voltbill runs with
 * VOLTBILL_PAYMENT_PROVIDER=stripe against the Stripe-shaped server, which lives in THIS process (a real provider
 * survives our crash) and fails 5 % of requests by timeout, 2 % with a 500 and 1 % by losing the response of a
 * request it processed (seeded, rates adjustable); each kind is also forced once (a timeout and a 500 on the first
 * payment calls, the answer to the first successful capture lost, also to the SDK's own retry), so every run
 * exercises all three, and the run fails if one did not occur. Each session gets a hold while it runs and a capture at its end,
 * while the server is killed. The provider also sends Stripe's signed events to the first node's webhook endpoint
 * (retried while it is down), racing the worker's own answers. With --provider-outage-s N the provider is down
 * besides (every API call answered 500) for N s from a fifth of the way into the kills: no payment may fail, no card
 * be blocked and no driver be dunned for it. After the stations drain, the payment worker gets a bounded settle time
 * (--settle-s, 150 s by default: a step claimed by a killed worker returns after its 60 s lease), then
 * payment-checks.ts compares the provider's state with Voltbill's payments and invoices. With --renew-holds the
 * provider's holds last 20 hours, so every running session's hold is renewed in place and the old one released.
 *
 * With --nodes N (PostgreSQL) N `voltbill serve` nodes share the database, as a cluster behind a load balancer:
 * station n connects first to node n mod N and each reconnect goes to the next node; each kill hits one node, drawn
 * at random, whose stations reconnect to another while it restarts. Every node runs its payment worker, so with
 * --provider-faults two nodes' workers claim from one outbox (one step of a payment at a time across them).
 *
 *   npm run chaos [-- --quick] [--scenario kill|postgres-restart] [--kills 10] [--stations 50] [--pglite] [--nodes 2]
 *                 [--protocol ocpp1.6|ocpp2.0.1|mixed] [--duplicate-stops 0.1] [--late-meter-values 0.05]
 *                 [--swapped-meter-values 0.1] [--stale-statuses 0.1] [--signed] [--seed N]
 *                 [--provider-faults [--provider-timeouts 0.05] [--provider-5xx 0.02] [--provider-lost 0.01]
 *                  [--provider-outage-s 0] [--settle-s 150 + 4 × outage] [--renew-holds]]
 *
 * On PostgreSQL (from the machine's binaries) when available, else (or with --pglite) on the embedded database.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/open-database.ts';
import { REPO_ROOT } from '../../src/load/bench-harness.ts';
import type { LoadProtocolChoice } from '../../src/load/load-protocol.ts';
import { LOAD_TEST_LIMITS } from '../../src/load/load-test-limits.ts';
import { provisionFleet } from '../../src/load/provision-fleet.ts';
import { runLoad } from '../../src/load/run-load.ts';
import { createStripeProvider } from '../../src/payments/stripe/stripe-provider.ts';
import { seedDemo } from '../../src/seed/seed-demo.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createPrng, deriveSeed, randomInt } from '../../src/sim/prng.ts';
import { freePort } from '../support/free-port.ts';
import { findPostgresBinaries, type PostgresServer, startPostgres } from '../support/postgres-server.ts';
import { type StripeShapedServer, startStripeShapedServer } from '../support/stripe-shaped-server.ts';
import { type CheckResult, checkInvariants, checkSignedSessions } from './chaos-checks.ts';
import { checkPayments, type PaymentFigures, pendingOutboxItems } from './payment-checks.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    kills: { type: 'string' },
    stations: { type: 'string' },
    pglite: { type: 'boolean' },
    protocol: { type: 'string' },
    seed: { type: 'string' },
    scenario: { type: 'string' },
    'duplicate-stops': { type: 'string' },
    'late-meter-values': { type: 'string' },
    'swapped-meter-values': { type: 'string' },
    'stale-statuses': { type: 'string' },
    signed: { type: 'boolean' },
    'provider-faults': { type: 'boolean' },
    'provider-timeouts': { type: 'string' },
    'provider-5xx': { type: 'string' },
    'provider-lost': { type: 'string' },
    'settle-s': { type: 'string' },
    'provider-outage-s': { type: 'string' },
    'renew-holds': { type: 'boolean' },
    nodes: { type: 'string' },
  },
});
const SCENARIOS = ['kill', 'postgres-restart'] as const;
const scenario = (values.scenario ?? 'kill') as (typeof SCENARIOS)[number];
if (!SCENARIOS.includes(scenario)) {
  console.error(`--scenario must be one of ${SCENARIOS.join(', ')} (got ${values.scenario})`);
  process.exit(2);
}
const duplicateStopRate = Number(values['duplicate-stops'] ?? 0.1);
const lateMeterValueRate = Number(values['late-meter-values'] ?? 0.05);
const swappedMeterValueRate = Number(values['swapped-meter-values'] ?? 0.1);
const staleStatusRate = Number(values['stale-statuses'] ?? 0.1);
/** Stations whose meters sign every session's begin and end (src/load/load-meter.ts); checked by checkSignedSessions. */
const signed = values.signed ?? false;
const quick = values.quick ?? false;
const kills = Number(values.kills ?? 10);
const stations = Number(values.stations ?? (quick ? 20 : 200));
const protocol = (values.protocol ?? 'ocpp1.6') as LoadProtocolChoice;
const seed = Number(values.seed ?? Math.floor(Math.random() * 0xffff_ffff));
const prng = createPrng(seed);
const providerFaults = values['provider-faults'] ?? false;
const faultRates = {
  timeout: Number(values['provider-timeouts'] ?? 0.05),
  serverError: Number(values['provider-5xx'] ?? 0.02),
  lostResponse: Number(values['provider-lost'] ?? 0.01),
};
/**
 * With --provider-faults: the provider down (every API call answered 500) for this many seconds, from a fifth of the
 * way into the kills, on top of the fault rates. 0: no outage.
 */
const outageS = Number(values['provider-outage-s'] ?? 0);
if (!Number.isFinite(outageS) || outageS < 0 || outageS > 3600 || (outageS > 0 && !providerFaults)) {
  console.error(
    `--provider-outage-s needs --provider-faults and 0 to 3600 seconds (got ${values['provider-outage-s']})`,
  );
  process.exit(2);
}
/**
 * Upper bound on the wait for the payment worker after the stations drained (a killed claim lapses after 60 s). After
 * an outage of N s the steps retry on their backoff (doubling): a step failing through it waits up to about N s more
 * for its next try, and twice that again if that try meets one of the fault rates: 4 N covers it (seen: a 300 s
 * outage, the last step due 861 s after it ended).
 */
const settleS = Number(values['settle-s'] ?? 150 + 4 * outageS);
/**
 * With --provider-faults: holds last 20 hours at the provider, inside Voltbill's renewal horizon (24 hours), so that
 * every running session's hold is renewed in place once and the old hold released by its own outbox step, under the
 * kills and the faults; the checks then find every old hold cancelled and only the renewed one captured.
 */
const renewHolds = values['renew-holds'] ?? false;
if (renewHolds && !providerFaults) {
  console.error('--renew-holds needs --provider-faults (the Stripe-shaped provider)');
  process.exit(2);
}
const RENEWED_HOLD_VALIDITY_S = 20 * 3600;
const nodes = Number(values.nodes ?? 1);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 4) {
  console.error(`--nodes must be an integer from 1 to 4 (got ${values.nodes})`);
  process.exit(2);
}
/** The Stripe SDK's per-call timeout in Voltbill: a held request costs the worker this long. */
const STRIPE_TIMEOUT_MS = 2000;
/** Test-mode credentials the Stripe-shaped server accepts (it checks the sk_test_ prefix; no webhooks are sent). */
const STRIPE_SECRET_KEY = 'sk_test_voltbill_chaos';
const STRIPE_WEBHOOK_SECRET = 'whsec_voltbill_chaos';
/** Real ms the server lives between a restart and its next kill: drawn from this range. */
const [minLifeMs, maxLifeMs] = quick ? [1500, 4000] : [3000, 12_000];
const STATION_PREFIX = 'CHAOS-';
/** A restart (node, tsx, migrations check) can take minutes on a busy 2-core machine. */
const STARTUP_TIMEOUT_MS = 300_000;
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 23)}] ${line}`);

const usePglite = values.pglite || 'missing' in findPostgresBinaries();
if (nodes > 1 && usePglite) {
  console.error('--nodes needs PostgreSQL server binaries (and no --pglite): the embedded database admits one process');
  process.exit(2);
}
if (scenario === 'postgres-restart' && usePglite) {
  console.error('--scenario postgres-restart needs PostgreSQL server binaries (and no --pglite)');
  process.exit(2);
}
log(
  `seed ${seed}; scenario ${scenario}; ${stations} stations (${protocol}), ${kills} faults; ` +
    `${duplicateStopRate * 100} % duplicated stops, ${lateMeterValueRate * 100} % late meter values, ` +
    `${swappedMeterValueRate * 100} % with two meter values swapped, ${staleStatusRate * 100} % with an older status ` +
    'after their Available; ' +
    (signed ? 'meters signing every begin and end (OCMF); ' : '') +
    `database ${usePglite ? 'embedded PGlite' : 'PostgreSQL'}` +
    (nodes > 1 ? `; ${nodes} nodes` : '') +
    (providerFaults
      ? `; Stripe-shaped provider with ${faultRates.timeout * 100} % timeouts, ${faultRates.serverError * 100} % 5xx, ` +
        `${faultRates.lostResponse * 100} % lost responses`
      : ''),
);

let postgres: PostgresServer | undefined;
let dataDir: string | undefined;
/** The running node processes, by node index (one unless --nodes). */
const servers: (ChildProcess | undefined)[] = [];
/** The last 4,000 characters the current server wrote to stderr: shown when it dies unexpectedly. */
let serverStderr = '';
let stripe: StripeShapedServer | undefined;
let exitCode = 1;
try {
  // The provider outlives every crash of ours: it runs here, in the runner, not in the server that gets killed.
  if (providerFaults) {
    stripe = await startStripeShapedServer(renewHolds ? { holdValidityS: RENEWED_HOLD_VALIDITY_S } : {});
  }
  if (usePglite) dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'voltbill-chaos-'));
  else postgres = await startPostgres({ durable: true });
  const target = dataDir
    ? { kind: 'pglite' as const, dataDir }
    : { kind: 'postgres' as const, url: (postgres as PostgresServer).url };
  // Prepare the database while no server runs (the embedded one admits one process at a time).
  const prepared = await openTarget(target);
  try {
    await migrateToLatest(prepared.db);
    await seedDemo(prepared.db, 'half-up');
    await provisionFleet(prepared.db, {
      stations,
      firstStation: 1,
      stationPrefix: STATION_PREFIX,
      idTagPrefix: 'CH',
      ...(stripe && {
        card: {
          provider: createStripeProvider({
            secretKey: STRIPE_SECRET_KEY,
            webhookSecrets: [STRIPE_WEBHOOK_SECRET],
            clock: systemClock,
            // Setting up the fleet's cards against the local Stripe-shaped server: no account limit to keep to.
            requestsPerSecond: 10_000,
            api: { host: '127.0.0.1', port: stripe.port, protocol: 'http' },
          }),
          paymentMethodRef: 'pm_card_visa',
        },
      }),
    });
  } finally {
    await prepared.close();
  }

  const ocppPorts: number[] = [];
  const httpPorts: number[] = [];
  for (let i = 0; i < nodes; i++) {
    ocppPorts.push(await freePort());
    httpPorts.push(await freePort());
  }
  const env: NodeJS.ProcessEnv = {
    ...LOAD_TEST_LIMITS,
    ...process.env,
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: String(ocppPorts[0]),
    VOLTBILL_HTTP_PORT: String(httpPorts[0]),
    VOLTBILL_LOG_LEVEL: 'error',
    // A killed node counts as dead (its stations offline, its job claims lapsed) within seconds, not 20 s.
    ...(nodes > 1 && { VOLTBILL_CLUSTER_HEARTBEAT_S: '1', VOLTBILL_CLUSTER_NODE_TTL_S: '3' }),
    ...(target.kind === 'postgres' ? { DATABASE_URL: target.url } : { VOLTBILL_DATA_DIR: target.dataDir }),
    ...(stripe && {
      VOLTBILL_PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: `http://127.0.0.1:${stripe.port}`,
      STRIPE_TIMEOUT_MS: String(STRIPE_TIMEOUT_MS),
      // The pacer on, at a live key's default: the Stripe-shaped server has no limit, the test key's 20/s would
      // only slow the run.
      STRIPE_REQUESTS_PER_SECOND: '80',
      // Retries of unknown outcomes 0.5 s, 1 s, 2 s... instead of 2 s, 4 s...: the run is minutes, not hours.
      VOLTBILL_PAYMENT_RETRY_BASE_MS: '500',
      VOLTBILL_PAYMENT_WORKER_INTERVAL_MS: '250',
    }),
  };
  if (target.kind === 'pglite') delete env.DATABASE_URL;
  const startServer = async (node = 0): Promise<ChildProcess> => {
    const httpPort = httpPorts[node] as number;
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/voltbill.js'), 'serve', '--no-seed'], {
      cwd: REPO_ROOT,
      env: {
        ...env,
        VOLTBILL_OCPP_PORT: String(ocppPorts[node]),
        VOLTBILL_HTTP_PORT: String(httpPort),
        ...(nodes > 1 && { VOLTBILL_NODE_ID: `chaos_node_${node + 1}` }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
      serverStderr = stderr;
    });
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!(await isHealthy(httpPort))) {
      if (child.exitCode !== null)
        throw new Error(`the server exited with ${child.exitCode} while starting: ${stderr}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the server did not become healthy in ${STARTUP_TIMEOUT_MS / 1000} s: ${stderr}`);
      }
      await sleep(100);
    }
    return child;
  };

  // Faults from now on: saving the cards above is setup, not the test.
  // Each kind also forced once (a timeout and a 500 on the first payment calls, the answer to the first successful
  // capture lost): the rates alone draw no lost response in about one run in six.
  stripe?.injectFaults({ rates: faultRates, seed: deriveSeed(seed, 0x5717e), atLeastOnce: true });
  // The provider's signed events go to the first node, as Stripe's go to one endpoint; while it is down they are
  // retried (up to ~25 s here), and they race the worker's own answers, as in production.
  stripe?.setWebhook({
    url: `http://127.0.0.1:${httpPorts[0]}/api/v1/payments/webhooks/stripe`,
    secret: STRIPE_WEBHOOK_SECRET,
  });
  const ocppUrls = ocppPorts.map((port) => `ws://127.0.0.1:${port}/ocpp`);
  for (let node = 0; node < nodes; node++) {
    servers[node] = await startServer(node);
    log(`server up (pid ${servers[node]?.pid}) on ${ocppUrls[node]}`);
  }
  const stopLoad = new AbortController();
  const load = runLoad({
    url: ocppUrls.join(','),
    stations,
    durationS: 86_400,
    protocol,
    meterIntervalS: quick ? 0.3 : 1,
    // With payments, sessions last long enough (about 2.4 s in --quick) for the worker to place most holds first.
    samplesPerSession: providerFaults ? 8 : 3,
    idleS: quick ? 0.3 : 2,
    stationPrefix: STATION_PREFIX,
    idTagPrefix: 'CH',
    callTimeoutMs: 10_000,
    drainTimeoutS: 180,
    connectRatePerS: 200,
    recordSessions: true,
    duplicateStopRate,
    lateMeterValueRate,
    swappedMeterValueRate,
    staleStatusRate,
    signed,
    seed,
    signal: stopLoad.signal,
  });

  // The provider's outage runs beside the kills, from a fifth of the way in; the stations stop only after it ended.
  const outage =
    stripe && outageS > 0
      ? (async (provider: StripeShapedServer) => {
          await sleep(Math.round((kills * (minLifeMs + maxLifeMs)) / 2 / 5));
          provider.setOutage(true);
          log(`provider outage: every API call answered 500 for ${outageS} s`);
          await sleep(outageS * 1000);
          provider.setOutage(false);
          log(`provider back after ${outageS} s: ${provider.outageRefusals()} calls refused meanwhile`);
        })(stripe)
      : undefined;
  const downtimes: number[] = [];
  for (let kill = 1; kill <= kills; kill += 1) {
    await sleep(randomInt(prng, minLifeMs, maxLifeMs));
    if (scenario === 'postgres-restart') {
      const downMs = randomInt(prng, 200, 3000);
      const startedAt = Date.now();
      await (postgres as PostgresServer).restart(downMs);
      downtimes.push(Date.now() - startedAt);
      const exited = servers.find((node) => node?.exitCode !== null);
      if (exited) {
        throw new Error(`a server exited (${exited.exitCode}) when PostgreSQL went down: ${serverStderr}`);
      }
      log(
        `outage ${kill}/${kills}: PostgreSQL down for ${Date.now() - startedAt} ms (immediate stop), Voltbill kept running`,
      );
      continue;
    }
    // One node's draw only with several, so that a seed replays the same run with one node as before.
    const node = nodes > 1 ? randomInt(prng, 0, nodes - 1) : 0;
    const victim = servers[node] as ChildProcess;
    const exited = new Promise((resolve) => victim.once('exit', resolve));
    victim.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    await sleep(randomInt(prng, 0, 1000));
    const restarted = await startServer(node);
    servers[node] = restarted;
    downtimes.push(Date.now() - killedAt);
    log(
      `kill ${kill}/${kills}: SIGKILL ${nodes > 1 ? `node ${node + 1}, ` : ''}pid ${victim.pid}; restarted as pid ` +
        `${restarted.pid} after ${Date.now() - killedAt} ms`,
    );
  }
  await outage;
  // Let the stations settle after the last restart, then end their sessions and deliver the stops.
  await sleep(quick ? 3000 : 10_000);
  log('stopping the load: stations end their sessions and deliver their last messages');
  stopLoad.abort();
  const report = await load;
  log(
    `stations: ${report.sessions.started} sessions started, ${report.sessions.completed} completed, ` +
      `${report.messages.retries} retries, ${report.connections.disconnects} dropped connections, ` +
      `${report.messages.duplicateStops} duplicated final messages, ${report.messages.lateMeterValues} late meter values, ` +
      `${report.messages.swappedMeterValues} pairs of meter values swapped, ${report.messages.staleStatuses} older ` +
      'statuses after an Available, ' +
      `${report.connections.attempts} connection attempts`,
  );

  let settledS: number | undefined;
  if (stripe) {
    settledS = await settlePayments(target, startServer);
    log(
      settledS === undefined
        ? `payment worker not caught up after ${settleS} s (bound)`
        : `payment worker caught up ${settledS.toFixed(1)} s after the stations drained (bound ${settleS} s)`,
    );
  }
  const survived = servers.every((node) => node?.exitCode === null);
  // A graceful stop flushes what the servers buffer; then the checks read the database directly.
  await Promise.all(
    servers.map((node) => {
      const stopped = new Promise((resolve) => node?.once('exit', resolve));
      node?.kill('SIGTERM');
      return stopped;
    }),
  );
  servers.length = 0;
  const db = await openTarget(target);
  let results: CheckResult[];
  let figures: PaymentFigures | undefined;
  try {
    results = await checkInvariants(db.db, report.completedSessions ?? [], STATION_PREFIX);
    if (signed) results.push(await checkSignedSessions(db.db, STATION_PREFIX));
    if (stripe) {
      const payments = await checkPayments(db.db, stripe, { renewHolds });
      results.push(...payments.results);
      figures = payments.figures;
    }
  } finally {
    await db.close();
  }
  results.push({
    name: 'stations delivered every transaction message (no session left unfinished on the station side)',
    ok: report.sessions.started === report.sessions.completed,
    detail: `${report.sessions.started} started, ${report.sessions.completed} completed`,
  });
  if (scenario === 'postgres-restart') {
    results.push({
      name: 'Voltbill kept running through every PostgreSQL outage',
      ok: survived,
      detail: survived ? `${kills} outages, one process per node` : 'a server process exited',
    });
  }
  results.push(reconcile(env));
  if (stripe) {
    // Every kind with a rate must have hit the run (atLeastOnce forces one of each), else it proved nothing about it.
    const f = stripe.faultCounts;
    const kinds = [
      ['timeout', f.timeout, faultRates.timeout],
      ['5xx', f.serverError, faultRates.serverError],
      ['lost response of a successful capture', f.lostCaptures, faultRates.lostResponse],
    ] as const;
    const missed = kinds.filter(([, count, rate]) => rate > 0 && count === 0).map(([kind]) => kind);
    results.push({
      name: 'provider: every fault kind with a rate injected at least once',
      ok: missed.length === 0,
      detail:
        kinds.map(([kind, count]) => `${count} ${kind}`).join(', ') +
        ` (${f.forced} forced)${missed.length ? `; none: ${missed.join(', ')}` : ''}`,
    });
    // A 4xx means the node refused a genuine signed event (a signature, parsing or limit defect): never expected.
    const { delivered, refused } = stripe.webhookCounts;
    results.push({
      name: "the provider's signed events accepted by the node (none answered 4xx)",
      ok: refused === 0,
      detail: `${delivered} delivered, ${refused} refused`,
    });
  }
  for (const result of results) log(`${result.ok ? 'PASS' : 'FAIL'} ${result.name}: ${result.detail}`);
  if (stripe && figures) {
    const f = stripe.faultCounts;
    log(
      `provider: ${f.requests} API requests during the run; faults injected: ${f.timeout} timeouts ` +
        `(${f.timeoutAfterProcessing} processed before the hold), ${f.serverError} 500s, ${f.lostResponse} lost responses ` +
        `(${f.lostCaptures} of successful captures), ${f.forced} of them forced; ${figures.intents} PaymentIntents (holds and ` +
        `charges): ${figures.captured} captured (${figures.capturedMinor} minor units), ${figures.cancelled} cancelled, ` +
        `${figures.stillHeld} still held; ${figures.cardInvoices} card invoices`,
    );
    log(
      `provider's events: ${stripe.webhookCounts.delivered} delivered, ${stripe.webhookCounts.failed} given up ` +
        '(the first node down through every retry)',
    );
    log(
      `payment outbox: ${figures.outboxItems} items (${figures.outboxByAction}), ${figures.outboxRetries} retried ` +
        `attempts (incl. claims lost to a kill); open errors: ${figures.lastErrors}; settle ${settledS?.toFixed(1) ?? `>${settleS}`} s`,
    );
  }
  const downtime = downtimes.reduce((a, b) => a + b, 0) / Math.max(1, downtimes.length);
  log(
    scenario === 'kill'
      ? `mean downtime per kill ${(downtime / 1000).toFixed(1)} s (restart of node + tsx + migrations check)`
      : `mean PostgreSQL outage ${(downtime / 1000).toFixed(1)} s`,
  );
  exitCode = results.every((result) => result.ok) ? 0 : 1;
  log(exitCode === 0 ? `PASSED (seed ${seed})` : `FAILED (seed ${seed}: rerun with --seed ${seed})`);
} catch (error) {
  log(`crashed: ${(error as Error).stack ?? error}`);
} finally {
  for (const node of servers) if (node && node.exitCode === null) node.kill('SIGKILL');
  postgres?.stop();
  await stripe?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);

/**
 * Waits (bounded by --settle-s) until the payment outbox has nothing pending, the server still running. Returns the
 * seconds it took, or undefined at the bound. PostgreSQL is read alongside the server; the embedded database admits
 * one process, so there the server is stopped for each look and started again.
 */
async function settlePayments(
  target: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string },
  startServer: () => Promise<ChildProcess>,
): Promise<number | undefined> {
  const startedAt = Date.now();
  const deadline = startedAt + settleS * 1000;
  const probe = target.kind === 'postgres' ? await openTarget(target) : undefined;
  try {
    for (;;) {
      let pending: number;
      if (probe) pending = await pendingOutboxItems(probe.db);
      else {
        const stopped = new Promise((resolve) => servers[0]?.once('exit', resolve));
        servers[0]?.kill('SIGTERM');
        await stopped;
        const db = await openTarget(target);
        try {
          pending = await pendingOutboxItems(db.db);
        } finally {
          await db.close();
        }
        servers[0] = await startServer();
      }
      if (pending === 0) return (Date.now() - startedAt) / 1000;
      if (Date.now() > deadline) return undefined;
      await sleep(target.kind === 'postgres' ? 500 : 5000);
    }
  } finally {
    await probe?.close();
  }
}

function openTarget(
  target: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string },
): Promise<DatabaseHandle> {
  return target.kind === 'pglite'
    ? openDatabase({ kind: 'pglite', dataDir: target.dataDir, command: 'chaos' })
    : openDatabase({ kind: 'postgres', url: target.url, maxConnections: 2 });
}

/** `voltbill reconcile --json` when the command exists (exit 0 = clean); skipped otherwise. */
function reconcile(env: NodeJS.ProcessEnv): { name: string; ok: boolean; detail: string } {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/voltbill.js'), 'reconcile', '--json'], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (/unknown command 'reconcile'/.test(result.stderr ?? '')) {
    return { name: 'voltbill reconcile clean', ok: true, detail: 'skipped: no reconcile command yet' };
  }
  return {
    name: 'voltbill reconcile clean',
    ok: result.status === 0,
    detail: `exit ${result.status}: ${(result.stdout || result.stderr || '').trim().slice(0, 300)}`,
  };
}

function isHealthy(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).then(
    (response) => response.ok,
    () => false,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
