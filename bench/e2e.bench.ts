/**
 * End to end: complete sessions per second on one node — Authorize, start, meter values, stop, the CDR priced and
 * stored, and whatever the stop's transaction books after it (invoice, capture, ledger, where those exist) — on a
 * durable PostgreSQL. Stations run back-to-back sessions (no idle time, samples sent as soon as acknowledged). The
 * figure is counted in the database (CDRs written per second), not only from the stations' side.
 *
 *   npx tsx bench/e2e.bench.ts [--stations 200] [--duration 20] [--samples 2] [--meter-interval 0] [--pglite]
 *                              [--unix-socket] [--pay none] [--pool N] [--no-bare] [--warmup 0]
 *                              [--protocol ocpp1.6|ocpp2.0.1|mixed] [--worker-lanes N]
 *                              [--provider stripe [--webhook-delay-ms 0] [--provider-latency-ms 0]
 *                                                 [--provider-timeout-rate 0] [--stripe-requests-per-second 10000]]
 *                              [--signed]
 *
 * First, unless `--no-bare`, the same stations run the same sessions against the bare `ws` server that only
 * acknowledges (src/load/ack-only-server.ts: a transaction id, idTag Accepted, nothing stored): the sessions per
 * second this machine's stations and sockets allow at all, the physical limit. The run prints Voltbill's complete
 * sessions as a ratio to it (not with `--meter-interval S` > 0: the bare rate is then set by the pacing).
 *
 * `--pool N` sets the server's VOLTBILL_DATABASE_POOL_SIZE (default: the server's default, 10); `--worker-lanes N` its
 * VOLTBILL_PAYMENT_WORKER_CONCURRENCY (default: the server's, 8 with the SANDBOX and 32 with Stripe).
 *
 * Every session pays by a saved card (default): a hold placed at its start, the exact amount captured after its
 * stop, both by the payment worker against the built-in SANDBOX provider (the stand-in for the card network, in this
 * process), whose webhooks come back to Voltbill's endpoint. The run then waits for the captures, and the figure
 * that counts is complete sessions, capture included, per second from the start of the run to the last capture.
 * `--pay none`: sessions invoiced and booked but not paid (the earlier figure).
 * `--provider stripe`: paid through the Stripe adapter (the `stripe` SDK over HTTP) against a Stripe-shaped API in a
 * process of its own (bench/stripe-shaped-child.ts), as in production, instead of the SANDBOX inside the node: the
 * node no longer does the card network's work (its vault and state, the client side of its webhooks). Like Stripe,
 * that API sends signed events to the node's webhook endpoint (3 per session paid at its end: created,
 * amount_capturable_updated, succeeded), which the node verifies and applies as in production.
 * `--provider-latency-ms L` (with `--provider stripe`): that API answers every call L ms late, as Stripe's servers
 * take a few hundred ms per payment call where a loopback server takes one: what the payment worker's lanes and
 * request rate (docs/payments.md) do to the captures when each call waits. The run prints the capture lag: from
 * the stop's commit (its charge or settle step queued) to that step done, p50/p99/max.
 * `--provider-timeout-rate R` (with `--provider stripe`): that share of calls is never answered, and the node's
 * STRIPE_TIMEOUT_MS (its default, 20 s) ends each, as a provider that stalls now and then: what one slow call does
 * to the other captures.
 * `--stripe-requests-per-second R`: the node's STRIPE_REQUESTS_PER_SECOND (default 10,000: no limit the node
 * reaches, so that the figure is the node's own; a live Stripe account allows 100 a second in all).
 *
 * With the default `--meter-interval 0` a session lasts a few tens of milliseconds, so it ends before the worker has
 * placed its hold and is charged at its end (payment-billing-hook.ts). `--meter-interval S` spaces the samples S
 * seconds apart: sessions then last long enough for the hold, and the run takes a real session's path (hold placed
 * by the worker during the session, then the exact amount captured from it). The run prints which steps it took.
 *
 * `--warmup S`: the same load runs S seconds against the node first (its captures waited for), and the run that
 * counts starts after it: the sustained figure of a node whose code V8 has optimized, rather than one that spends
 * part of the run compiling (bench/paid-session-cost.ts prints that share: about 2-3 ms of CPU per session in a
 * cold 15 s run, under 1 ms warm). The rows and disk counted are the measured run's only.
 *
 * `--signed`: each station's meter signs the register at every session's begin and end (OCMF, its key sent with
 * the data: src/load/load-meter.ts), as Eichrecht meters do; the node stores the raw values, verifies every
 * signature and the signed energy against the bill at the stop, and pins each meter's key on first use. The run
 * prints how many sessions' signed data verified (test/chaos/chaos-checks.ts checkSignedSessions).
 */
import { sql } from 'kysely';
import { startAckOnlyServer } from '../src/load/ack-only-server.ts';
import {
  type BenchDatabase,
  countRows,
  describeMachine,
  fmt,
  hasFlag,
  loadFlags,
  numberFlag,
  protocolFlag,
  runLoadChild,
  startBenchServer,
} from '../src/load/bench-harness.ts';
import { checkSignedSessions } from '../test/chaos/chaos-checks.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.ts';
import { describeDiskGrowth, diskGrowth, takeDiskSnapshot } from './disk-usage.ts';
import { benchDatabaseUrl } from './load-bench-server.ts';
import { connectWebhooks, providerFlags, startStripeShapedChild } from './stripe-shaped-child.ts';

const stations = numberFlag('stations', 200);
const durationS = numberFlag('duration', 20);
const protocol = protocolFlag();
const samples = numberFlag('samples', 2);
const warmupS = numberFlag('warmup', 0);
const meterIntervalS = numberFlag('meter-interval', 0);
const poolIndex = process.argv.indexOf('--pool');
const databasePoolSize = poolIndex === -1 ? undefined : numberFlag('pool', 10);
const payIndex = process.argv.indexOf('--pay');
const payByCard = payIndex === -1 || process.argv[payIndex + 1] !== 'none';
/** With --provider stripe, --webhook-delay-ms: how long after each event the provider sends it (0: at once). */
const {
  provider: providerName,
  webhookDelayMs,
  latencyMs: providerLatencyMs,
  timeoutRate: providerTimeoutRate,
} = providerFlags();
/** How long the captures may take after the stations are done before the run is reported as incomplete. */
const CAPTURE_DRAIN_TIMEOUT_MS = 120_000;

console.log(`end-to-end benchmark — ${describeMachine()}`);
console.log(
  `${stations} stations (${protocol}), ${durationS} s, back-to-back sessions of ${samples} meter values ${meterIntervalS} s apart` +
    `${payByCard ? `, paid by a saved card (hold at the start, capture after the stop; ${providerName === 'stripe' ? 'Stripe adapter, Stripe-shaped API in another process' : 'SANDBOX provider'})` : ', not paid (--pay none)'}\n`,
);

const loadArgs = (url: string, seconds = durationS) =>
  loadFlags({
    url,
    protocol,
    stations,
    duration: seconds,
    'meter-interval': meterIntervalS,
    samples,
    idle: 0,
    'connect-rate': 1000,
    signed: hasFlag('signed'),
  });

/** The physical limit, before PostgreSQL starts so that nothing else runs beside it. */
async function runBare() {
  const bare = await startAckOnlyServer();
  try {
    const report = await runLoadChild(loadArgs(bare.url));
    // A reference that failed is no reference: the ratio would divide by nothing or by a broken run.
    if (report.sessions.completed === 0 || report.errors.total > 0) {
      throw new Error(
        `the bare server's run failed: ${report.sessions.completed} sessions, ${report.errors.total} errors`,
      );
    }
    console.log(
      `bare ws, acknowledge only: ${report.sessions.completed} sessions in ${report.wallTimeS} s, ` +
        `${report.sessions.perSecond} sessions/s (stations' count), ${report.messages.perSecond} messages/s, ` +
        `ack p99 ${fmt(report.windowAckLatency.p99Ms)} ms, errors 0\n`,
    );
    return report.sessions.perSecond;
  } finally {
    await bare.close();
  }
}
const bareSessionsPerS = hasFlag('no-bare') ? undefined : await runBare();

const postgres: PostgresServer | undefined = hasFlag('pglite')
  ? undefined
  : await startPostgres({ durable: true, maxConnections: 100 });
const database: BenchDatabase = postgres
  ? { kind: 'postgres', url: benchDatabaseUrl(postgres, hasFlag('unix-socket')) }
  : { kind: 'pglite' };
const stripe = payByCard && providerName === 'stripe' ? await startStripeShapedChild() : undefined;
try {
  const bench = await startBenchServer(database, stations, {
    payByCard,
    ...(databasePoolSize !== undefined && { databasePoolSize }),
    ...(process.argv.includes('--worker-lanes') && { paymentWorkerConcurrency: numberFlag('worker-lanes', 8) }),
    ...(stripe && {
      stripeApiUrl: stripe.apiUrl,
      stripeRequestsPerSecond: numberFlag('stripe-requests-per-second', 10_000),
    }),
  });
  if (stripe) connectWebhooks(stripe, bench.server.httpUrl, webhookDelayMs);
  if (stripe && providerLatencyMs > 0) stripe.setLatency(providerLatencyMs);
  if (stripe && providerTimeoutRate > 0) stripe.setTimeoutRate(providerTimeoutRate, 1);
  try {
    const db = bench.server.database.db;
    const paymentsByStatus = async () => {
      const rows = await sql<{ status: string; n: string }>`
        select status, count(*)::text as n from payments where kind = 'session' group by status`.execute(db);
      return Object.fromEntries(rows.rows.map((r) => [r.status, Number(r.n)]));
    };
    const tables = [
      'sessions',
      'cdrs',
      'invoices',
      'payments',
      'ledger_transfers',
      'ledger_postings',
      'payment_webhook_events',
    ];
    const countTables = async () =>
      Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await countRows(bench.server, t)]))) as Record<
        string,
        number | undefined
      >;
    if (warmupS > 0) {
      const warm = await runLoadChild(loadArgs(bench.server.ocppUrl, warmupS));
      const billed = (await countRows(bench.server, 'cdrs')) ?? 0;
      for (const giveUpAt = Date.now() + CAPTURE_DRAIN_TIMEOUT_MS; payByCard && Date.now() < giveUpAt; ) {
        if (((await paymentsByStatus()).captured ?? 0) >= billed) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      console.log(
        `warm-up: ${warmupS} s of the same load first (${warm.sessions.completed} sessions, ${warm.sessions.perSecond}/s ` +
          "by the stations' count, cold); the figures below are the run after it",
      );
    }
    const before = await countTables();
    const capturedBefore = (await paymentsByStatus()).captured ?? 0;
    const diskBefore = postgres ? await takeDiskSnapshot(postgres.url) : undefined;
    const spawnedAtMs = Date.now();
    const measuredFrom = new Date(spawnedAtMs);
    // The stops (CDRs) and captures counted every 500 ms while the stations run: their rates over the steady part of
    // the run (steadyRates) say whether the captures keep pace with the stops, apart from the ramp and the drain.
    const timeline: { atMs: number; cdrs: number; captured: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const atMs = Date.now();
        const cdrsNow = ((await countRows(bench.server, 'cdrs')) ?? 0) - (before.cdrs ?? 0);
        const capturedNow = payByCard ? ((await paymentsByStatus()).captured ?? 0) - capturedBefore : 0;
        timeline.push({ atMs, cdrs: cdrsNow, captured: capturedNow });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const report = await runLoadChild(loadArgs(bench.server.ocppUrl)).finally(() => {
      sampling = false;
    });
    await sampler;
    // The span of "complete sessions" is the stations' own run (report.wallTimeS, as the bare figure's) plus the wait
    // for the last capture after they finished; not the load child's start-up (node and tsx, 3 s on a 2-core host),
    // which the span measured from before its spawn counted until the fourteenth session.
    const stationsDoneMs = Date.now();
    // Captures run after the stops' commits (the payment worker): wait for them, so that "complete" includes them.
    let captureDoneMs = Date.now();
    if (payByCard) {
      const billed = (await countRows(bench.server, 'cdrs')) ?? 0;
      while (Date.now() - captureDoneMs < CAPTURE_DRAIN_TIMEOUT_MS) {
        const byStatus = await paymentsByStatus();
        if ((byStatus.captured ?? 0) >= billed) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      captureDoneMs = Date.now();
    }
    // The measured run's rows only (a warm-up's are counted before it).
    const after = await countTables();
    const counts = Object.fromEntries(
      tables.map((t) => [t, after[t] === undefined ? undefined : after[t] - (before[t] ?? 0)]),
    );
    const cdrs = counts.cdrs ?? 0;
    console.log(
      `${database.kind === 'postgres' ? `PostgreSQL (fsync on${hasFlag('unix-socket') ? ', Unix socket' : ''}${databasePoolSize !== undefined ? `, pool ${databasePoolSize}` : ''})` : 'PGlite (on disk)'}: ` +
        `${fmt(cdrs / report.wallTimeS)} CDRs/s over the whole run (${cdrs} CDRs in ${report.wallTimeS} s incl. ramp and drain); ` +
        `stations saw ${report.sessions.completed} sessions completed (${report.sessions.perSecond}/s)`,
    );
    console.log(
      `messages ${report.messages.perSecond}/s, ack latency in the window p50 ${fmt(report.windowAckLatency.p50Ms)} ms, p99 ${fmt(report.windowAckLatency.p99Ms)} ms; ` +
        `StopTransaction p99 ${fmt(report.windowByAction.StopTransaction?.p99Ms)} ms, TransactionEvent (2.0.1: start, ` +
        `readings and stop) p99 ${fmt(report.windowByAction.TransactionEvent?.p99Ms)} ms; errors ${report.errors.total}`,
    );
    console.log(
      `rows: ${Object.entries(counts)
        .map(([table, n]) => `${table} ${n ?? 'n/a'}`)
        .join(', ')}`,
    );
    if (postgres && diskBefore) {
      // Everything a complete session leaves (its messages, samples, session, CDR, invoice, payment, ledger, events).
      console.log(describeDiskGrowth(diskGrowth(diskBefore, await takeDiskSnapshot(postgres.url)), cdrs, 'session'));
    }
    if (hasFlag('signed')) {
      const signed = await checkSignedSessions(db, 'LOAD-');
      console.log(`signed data (--signed): ${signed.detail}; ${report.messages.signedReadings} signed readings sent`);
    }
    let rate = cdrs / report.wallTimeS;
    if (payByCard) {
      const byStatus = await paymentsByStatus();
      const captured = (byStatus.captured ?? 0) - capturedBefore;
      const spanS = report.wallTimeS + (captureDoneMs - stationsDoneMs) / 1000;
      rate = captured / spanS;
      console.log(
        `payments by status${warmupS > 0 ? ' (warm-up included)' : ''}: ${JSON.stringify(byStatus)}; ${captured} of ${cdrs} billed sessions captured ` +
          `${captured >= cdrs ? `(all), the last ${fmt((captureDoneMs - stationsDoneMs) / 1000)} s after the stations were done` : `(NOT all within ${CAPTURE_DRAIN_TIMEOUT_MS / 1000} s)`}`,
      );
      const steps = await sql<{ action: string; n: string }>`
        select action, count(*)::text as n from payment_outbox group by action order by action`.execute(db);
      console.log(
        `payment steps: ${steps.rows.map((r) => `${r.action} ${r.n}`).join(', ')} (authorize + settle: a hold placed ` +
          'during the session, then captured; charge: the session ended before its hold, charged at its end)',
      );
      // The stop's transaction queues the capture (a settle of the hold, or a charge when the session ended before
      // its hold): the time from that commit to the step done is what a driver's card statement waits for.
      const lag = await sql<{ n: string; p50: number | null; p99: number | null; max: number | null }>`
        select count(*)::text as n,
               percentile_cont(0.5) within group (order by extract(epoch from updated_at - created_at))::float8 as p50,
               percentile_cont(0.99) within group (order by extract(epoch from updated_at - created_at))::float8 as p99,
               max(extract(epoch from updated_at - created_at))::float8 as max
          from payment_outbox
         where action in ('settle', 'charge') and status = 'done' and created_at >= ${measuredFrom}`.execute(db);
      const l = lag.rows[0];
      console.log(
        `capture lag, the stop's commit to its capture done${providerLatencyMs > 0 ? ` (every provider call ${providerLatencyMs} ms)` : ''}` +
          `${providerTimeoutRate > 0 ? ` (${providerTimeoutRate * 100} % of calls timing out)` : ''}: ` +
          `p50 ${fmt(l?.p50)} s, p99 ${fmt(l?.p99)} s, max ${fmt(l?.max)} s over ${l?.n ?? 0} captures`,
      );
      console.log(
        `complete sessions, capture included: ${fmt(rate)}/s (${captured} from the stations' start to the last capture, ${fmt(spanS)} s)`,
      );
      const steady = steadyRates(timeline, durationS);
      if (steady) {
        console.log(
          `steady part of the run (${fmt(steady.fromS)}-${fmt(steady.toS)} s after the first stop): ` +
            `${fmt(steady.cdrsPerS)} stops billed/s, ${fmt(steady.capturedPerS)} captures/s` +
            (steady.capturedPerS < steady.cdrsPerS * 0.95
              ? ' (the captures fall behind the stops while the stations run, and catch up after)'
              : ' (the captures keep pace)'),
        );
      }
      console.log(
        `  (on the basis used until the fourteenth session, from the load process's spawn: ` +
          `${fmt(captured / ((captureDoneMs - spawnedAtMs) / 1000))}/s)`,
      );
    }
    console.log(
      `ratio to the target of 500 sessions/s: ${fmt((rate / 500) * 100)} % ` +
        `(billed exactly once: ${cdrs === report.sessions.completed ? 'yes, one CDR per completed session' : `NO: ${cdrs} CDRs for ${report.sessions.completed} sessions`})`,
    );
    if (bareSessionsPerS !== undefined && meterIntervalS > 0) {
      console.log(
        `bare ws: ${fmt(bareSessionsPerS)} sessions/s, paced by --meter-interval ${meterIntervalS} s rather than by the ` +
          'machine: no ratio to the physical limit',
      );
    } else if (bareSessionsPerS !== undefined) {
      console.log(
        `ratio Voltbill / bare: ${fmt((rate / bareSessionsPerS) * 100)} % of the physical limit ` +
          `(${fmt(rate)} / ${fmt(bareSessionsPerS)} sessions/s; the bare server's sessions are acknowledged, ` +
          `not stored, priced, invoiced or paid)`,
      );
    }
  } finally {
    await bench.close();
  }
} finally {
  await stripe?.close();
  postgres?.stop();
}

/**
 * The stops' and captures' rates between 25 % and 85 % of the run's duration after the first CDR: the ramp (first
 * connections, V8 compiling) and the end (stations finishing, the captures' backlog) left out. Undefined when the
 * samples do not cover that span.
 */
function steadyRates(
  timeline: readonly { atMs: number; cdrs: number; captured: number }[],
  runS: number,
): { fromS: number; toS: number; cdrsPerS: number; capturedPerS: number } | undefined {
  const first = timeline.find((sample) => sample.cdrs > 0);
  if (!first) return undefined;
  const from = timeline.find((sample) => sample.atMs >= first.atMs + runS * 250);
  const to = [...timeline].reverse().find((sample) => sample.atMs <= first.atMs + runS * 850);
  if (!from || !to || to.atMs - from.atMs < 1000) return undefined;
  const spanS = (to.atMs - from.atMs) / 1000;
  return {
    fromS: (from.atMs - first.atMs) / 1000,
    toS: (to.atMs - first.atMs) / 1000,
    cdrsPerS: (to.cdrs - from.cdrs) / spanS,
    capturedPerS: (to.captured - from.captured) / spanS,
  };
}
