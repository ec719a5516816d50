/**
 * What one complete paid session costs, drain included: back-to-back sessions paid by a saved card (SANDBOX
 * provider), then the wait until every billed session is captured; over that whole span, the server's CPU
 * (this process), PostgreSQL's CPU (/proc) and every SQL statement (pg_stat_statements: calls and execution time,
 * lock waits included), each divided by the sessions captured. `cpu-cost.ts e2e` measures a steady window of the
 * stations' requests, which leaves out most of the payment worker's captures (they run after the stops); this
 * counts them, so it is the cost that bounds "complete sessions per second, capture included".
 *
 *   npx tsx bench/paid-session-cost.ts [--stations 100] [--duration 15] [--warmup 0] [--top 25] [--pool N]
 *     [--provider stripe [--webhook-delay-ms 0]] [--protocol ocpp1.6|ocpp2.0.1|mixed] [--signed]
 *
 * `--warmup S`: the same load runs S seconds first, its captures are waited for, and only then does the measured span
 * begin: the server's code is then optimized already. V8 compiles a hot function again with its optimizing compiler,
 * on background threads, which takes several seconds of CPU in all over a server's first minutes (a few large
 * functions take 0.3-0.5 s each on this machine); a cold span counts that one-off cost as part of every session's.
 * The node's CPU is printed split into its JavaScript thread and its other threads (compiler, GC helpers, libuv).
 *
 * `--signed`: the stations' meters sign every session's begin and end (src/load/load-meter.ts), as Eichrecht meters
 * do: what storing and verifying signed meter data adds to a session.
 *
 * `--provider stripe`: the Stripe adapter against a Stripe-shaped API in another process (bench/stripe-shaped-child.ts)
 * instead of the SANDBOX inside this one; that process's CPU is printed apart, not counted as the node's.
 *
 * Not a *.bench.ts file, so `npm run bench` does not run it; it prints, never asserts. The load generator's own
 * CPU is not counted (it runs in a child process that has ended by the time the captures have).
 */
import os from 'node:os';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import {
  describeMachine,
  fmt,
  hasFlag,
  loadFlags,
  numberFlag,
  protocolFlag,
  runLoadChild,
  startBenchServer,
} from '../src/load/bench-harness.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import { benchDatabaseUrl } from './load-bench-server.ts';
import { postgresCpuS, threadsCpuS } from './process-cpu.ts';
import { connectWebhooks, providerFlags, startStripeShapedChild } from './stripe-shaped-child.ts';

const stations = numberFlag('stations', 100);
const durationS = numberFlag('duration', 15);
const top = numberFlag('top', 25);
const warmupS = numberFlag('warmup', 0);
/** The server's VOLTBILL_DATABASE_POOL_SIZE; default: the server's default (10). */
const databasePoolSize = process.argv.includes('--pool') ? numberFlag('pool', 10) : undefined;
const { provider: providerName, webhookDelayMs } = providerFlags();
/** The captures of a 15 s run finish within ~15 s after it; a run that has not captured after this is broken. */
const CAPTURE_TIMEOUT_MS = 120_000;

console.log(`paid session cost — ${describeMachine()}`);
const postgres = await startPostgres({ durable: true, maxConnections: 100, statementStatistics: true });
const stripe = providerName === 'stripe' ? await startStripeShapedChild() : undefined;
try {
  const bench = await startBenchServer({ kind: 'postgres', url: benchDatabaseUrl(postgres, false) }, stations, {
    payByCard: true,
    ...(databasePoolSize !== undefined && { databasePoolSize }),
    ...(stripe && { stripeApiUrl: stripe.apiUrl }),
  });
  if (stripe) connectWebhooks(stripe, bench.server.httpUrl, webhookDelayMs);
  const client = new pg.Client({ connectionString: postgres.url });
  try {
    await client.connect();
    await client.query('create extension if not exists pg_stat_statements');
    const count = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
    const loadArgs = (seconds: number) =>
      loadFlags({
        url: bench.server.ocppUrl,
        stations,
        duration: seconds,
        'meter-interval': 0,
        samples: 2,
        idle: 0,
        'connect-rate': 1000,
        'drain-timeout': 30,
        protocol: protocolFlag(),
        signed: hasFlag('signed'),
      });
    /** Waits until every CDR written since `cdrsFrom` is captured (or the timeout); the counts since then. */
    const awaitCaptures = async (cdrsFrom: number, capturedFrom: number, since: number) => {
      let cdrs = 0;
      let captured = 0;
      for (;;) {
        cdrs = (await count('select count(*) as n from cdrs')) - cdrsFrom;
        captured = (await count(`select count(*) as n from payments where status = 'captured'`)) - capturedFrom;
        if (captured >= cdrs || Date.now() - since > CAPTURE_TIMEOUT_MS) return { cdrs, captured };
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    if (warmupS > 0) {
      const warm = await runLoadChild(loadArgs(warmupS));
      const done = await awaitCaptures(0, 0, Date.now());
      console.log(
        `warm-up: ${warmupS} s of the same load first, ${warm.messages.perSecond} msg/s, ${done.captured} sessions ` +
          'captured; the measured span begins after it',
      );
    }
    const cdrsBefore = await count('select count(*) as n from cdrs');
    const capturedBefore = await count(`select count(*) as n from payments where status = 'captured'`);
    await client.query('select pg_stat_statements_reset()');
    const nodeBefore = process.cpuUsage();
    const threadsBefore = threadsCpuS();
    // The node's garbage collections over the span, by kind: the young generation's (scavenges) against the rest.
    const gc = { scavenges: 0, scavengeMs: 0, others: 0, otherMs: 0 };
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
          gc.scavenges++;
          gc.scavengeMs += entry.duration;
        } else {
          gc.others++;
          gc.otherMs += entry.duration;
        }
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const postgresBeforeS = postgresCpuS(postgres.dataDir);
    const providerBeforeS = stripe?.cpuS() ?? 0;
    const startedAt = Date.now();
    const report = await runLoadChild(loadArgs(durationS));
    const stationsDoneAt = Date.now();
    const { cdrs, captured } = await awaitCaptures(cdrsBefore, capturedBefore, stationsDoneAt);
    const capturedAt = Date.now();
    if (stripe) {
      // The provider's events about the last payments may still be on their way: their cost is part of a session's.
      let events = -1;
      for (const giveUpAt = Date.now() + webhookDelayMs + 10_000; Date.now() < giveUpAt; ) {
        const now = await count('select count(*) as n from payment_webhook_events');
        if (now === events) break;
        events = now;
        await new Promise((resolve) => setTimeout(resolve, webhookDelayMs + 300));
      }
    }
    const node = process.cpuUsage(nodeBefore);
    const threadsAfter = threadsCpuS();
    gcObserver.disconnect();
    const nodeS = (node.user + node.system) / 1e6;
    const postgresS = postgresCpuS(postgres.dataDir) - postgresBeforeS;
    const providerS = stripe ? stripe.cpuS() - providerBeforeS : undefined;
    const statements = await client.query<{ query: string; calls: number; total_ms: number }>(
      `select query, calls::int as calls, (total_exec_time + total_plan_time)::float8 as total_ms
         from pg_stat_statements
        where query not like '%pg_stat_statements%' and query not like 'select count(*) as n from %'
        order by total_exec_time + total_plan_time desc`,
    );
    const spanS = (capturedAt - startedAt) / 1000;
    console.log(
      `${stations} stations, ${durationS} s${databasePoolSize !== undefined ? `, pool ${databasePoolSize}` : ''}, ` +
        `${stripe ? 'Stripe adapter against the Stripe-shaped API in another process' : 'SANDBOX provider in the node'}: ${report.messages.perSecond} msg/s, errors ${report.errors.total}; ` +
        `${cdrs} CDRs, ${captured} captured (${captured >= cdrs ? 'all' : 'NOT all'}), the last ` +
        `${fmt((capturedAt - stationsDoneAt) / 1000)} s after the stations were done; ` +
        `${fmt(captured / spanS)} complete sessions/s over ${fmt(spanS)} s`,
    );
    if (captured === 0) throw new Error('no session was captured');
    const perSessionMs = (s: number) => fmt((s * 1000) / captured);
    console.log(
      `CPU per captured session (ramp, stops and drain): node ${perSessionMs(nodeS)} ms + PostgreSQL ` +
        `${perSessionMs(postgresS)} ms = ${perSessionMs(nodeS + postgresS)} ms; at that cost the ` +
        `${os.availableParallelism()} cores allow at most ${fmt((os.availableParallelism() * captured) / (nodeS + postgresS))} ` +
        `complete paid sessions/s (stations elsewhere); busy over the span: node ${fmt((100 * nodeS) / spanS)} %, ` +
        `PostgreSQL ${fmt((100 * postgresS) / spanS)} % of one core`,
    );
    // The kernel's share: on a loopback connection the sender's write also runs the receiver's TCP input path.
    console.log(
      `node's CPU per captured session: user ${perSessionMs(node.user / 1e6)} ms, system (kernel, socket writes ` +
        `and reads) ${perSessionMs(node.system / 1e6)} ms` +
        (providerS !== undefined ? `; the provider's process (not counted above): ${perSessionMs(providerS)} ms` : ''),
    );
    if (threadsBefore && threadsAfter) {
      console.log(
        `node's CPU per captured session by thread: JavaScript ${perSessionMs(threadsAfter.mainS - threadsBefore.mainS)} ms, ` +
          `other threads ${perSessionMs(threadsAfter.otherS - threadsBefore.otherS)} ms (V8's optimizing compiler and ` +
          `GC helpers, libuv's pool)${warmupS > 0 ? '' : "; a cold run (no --warmup) counts the compiler's one-off work here"}`,
      );
    }
    console.log(
      `node's garbage-collection pauses per captured session: ${perSessionMs(gc.scavengeMs / 1000)} ms in ` +
        `${fmt(gc.scavenges / captured, 2)} scavenges (young generation), ${perSessionMs(gc.otherMs / 1000)} ms in ` +
        `${fmt(gc.others / captured, 2)} other collections (old generation, incremental steps included)`,
    );
    let calls = 0;
    let totalMs = 0;
    for (const row of statements.rows) {
      calls += row.calls;
      totalMs += row.total_ms;
    }
    console.log(
      `statements per captured session: ${fmt(calls / captured)} (foreign-key checks and trigger statements ` +
        `included), ${fmt((totalMs * 1000) / captured)} µs of execution (lock waits included); the top ${top}:`,
    );
    console.log('  calls/session  µs/session  statement');
    for (const row of statements.rows.slice(0, top)) {
      console.log(
        `  ${fmt(row.calls / captured).padStart(13)}  ${fmt((row.total_ms * 1000) / captured).padStart(10)}  ` +
          row.query.replace(/\s+/g, ' ').trim().slice(0, 120),
      );
    }
  } finally {
    await client.end();
    await bench.close();
  }
} finally {
  await stripe?.close();
  await postgres.stop();
}
