/**
 * Memory under sustained paid sessions: does the node's memory stay flat while sessions come and go for minutes?
 * A per-session leak (a cache without a bound, a map entry never dropped) is invisible in a 15 s benchmark and fatal
 * after weeks. Voltbill runs in this process on a durable PostgreSQL (or PGlite); the stations run in a child
 * process; every `--sample-every` seconds the server's heap (after a full GC) and RSS are sampled with the sessions
 * billed so far. The figure: heap growth per 1,000 sessions between the first sample after the warm-up and the last.
 *
 *   node --expose-gc --import tsx bench/memory-soak.ts [--stations 200] [--duration 600] [--sample-every 30]
 *                                                      [--samples 10] [--meter-interval 1] [--idle 2] [--pglite]
 *                                                      [--provider stripe]
 *
 * Not in `npm run bench` (it runs for minutes). Sessions are paid by a saved card, so the payment worker's and the
 * webhooks' paths are in it. With the default SANDBOX provider the card network's own record of every payment lives
 * in this process too (it keeps them all, as a network does): that is growth by design, not the node's.
 * `--provider stripe` moves the card network to a Stripe-shaped API in a process of its own
 * (bench/stripe-shaped-child.ts, with its signed events), so the heap is Voltbill's alone, as in production.
 * Reference in the same run: the server's heap before any station connected, and after the stations left (idle).
 */
import {
  type BenchDatabase,
  countRows,
  describeMachine,
  fmt,
  hasFlag,
  loadFlags,
  numberFlag,
  runLoadChild,
  startBenchServer,
} from '../src/load/bench-harness.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.ts';
import { connectWebhooks, providerFlags, startStripeShapedChild } from './stripe-shaped-child.ts';

const stations = numberFlag('stations', 200);
const durationS = numberFlag('duration', 600);
const sampleEveryS = numberFlag('sample-every', 30);
const samples = numberFlag('samples', 10);
const meterIntervalS = numberFlag('meter-interval', 1);
const idleS = numberFlag('idle', 2);
const { provider: providerName, webhookDelayMs } = providerFlags();
/** Samples before this are the warm-up (caches filling, the JIT, the pools growing): not part of the growth. */
const WARMUP_S = 60;
const MIB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error(
    'run with --expose-gc (node --expose-gc --import tsx bench/memory-soak.ts): heap figures need a full GC',
  );
  process.exit(2);
}

/** Heap (used + external + array buffers) and RSS after a full collection. */
function memory(): { heapMiB: number; rssMiB: number } {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return { heapMiB: (usage.heapUsed + usage.external + usage.arrayBuffers) / MIB, rssMiB: usage.rss / MIB };
}

console.log(`memory soak — ${describeMachine()}`);
console.log(
  `${stations} stations, ${durationS} s, sessions of ${samples} meter values ${meterIntervalS} s apart, ${idleS} s ` +
    `idle between sessions, paid by a saved card (${providerName === 'stripe' ? 'Stripe adapter, Stripe-shaped API in another process' : 'SANDBOX in this process'}); ` +
    `a sample every ${sampleEveryS} s\n`,
);

const postgres: PostgresServer | undefined = hasFlag('pglite')
  ? undefined
  : await startPostgres({ durable: true, maxConnections: 100 });
const database: BenchDatabase = postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'pglite' };
const stripe = providerName === 'stripe' ? await startStripeShapedChild() : undefined;
try {
  const bench = await startBenchServer(database, stations, {
    payByCard: true,
    ...(stripe && { stripeApiUrl: stripe.apiUrl }),
  });
  if (stripe) connectWebhooks(stripe, bench.server.httpUrl, webhookDelayMs);
  try {
    const before = memory();
    console.log(`before the stations: heap ${fmt(before.heapMiB)} MiB, RSS ${fmt(before.rssMiB)} MiB`);
    console.log('   t (s)   CDRs   heap (MiB)   RSS (MiB)');
    const startedAtMs = Date.now();
    const rows: { t: number; cdrs: number; heapMiB: number; rssMiB: number }[] = [];
    let done = false;
    const run = runLoadChild(
      loadFlags({
        url: bench.server.ocppUrl,
        stations,
        duration: durationS,
        samples,
        'meter-interval': meterIntervalS,
        idle: idleS,
        'connect-rate': 500,
      }),
    ).finally(() => {
      done = true;
    });
    while (!done) {
      const waitUntil = Date.now() + sampleEveryS * 1000;
      while (!done && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 250));
      if (done) break;
      const row = {
        t: (Date.now() - startedAtMs) / 1000,
        cdrs: (await countRows(bench.server, 'cdrs')) ?? 0,
        ...memory(),
      };
      rows.push(row);
      console.log(
        `${fmt(row.t, 0).padStart(8)} ${String(row.cdrs).padStart(6)} ${fmt(row.heapMiB).padStart(12)} ${fmt(row.rssMiB).padStart(11)}`,
      );
    }
    const report = await run;
    // The captures of the last sessions, then the idle server.
    await bench.server.payments.worker.runUntilIdle();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = memory();
    const cdrs = (await countRows(bench.server, 'cdrs')) ?? 0;
    console.log(
      `\nstations: ${report.sessions.completed} sessions completed, ${report.errors.total} errors; ${cdrs} CDRs; ` +
        `after the stations left (idle): heap ${fmt(after.heapMiB)} MiB, RSS ${fmt(after.rssMiB)} MiB`,
    );
    const measured = rows.filter((row) => row.t >= WARMUP_S);
    const first = measured[0];
    const last = measured.at(-1);
    if (first && last && last.cdrs > first.cdrs) {
      const perThousand = ((last.heapMiB - first.heapMiB) * 1024) / ((last.cdrs - first.cdrs) / 1000);
      console.log(
        `heap from ${fmt(first.t, 0)} s to ${fmt(last.t, 0)} s: ${fmt(first.heapMiB)} → ${fmt(last.heapMiB)} MiB over ` +
          `${last.cdrs - first.cdrs} sessions: ${fmt(perThousand)} KiB per 1,000 sessions ` +
          `(RSS ${fmt(first.rssMiB)} → ${fmt(last.rssMiB)} MiB); idle after the run vs before the stations: ` +
          `${fmt(after.heapMiB - before.heapMiB)} MiB heap`,
      );
    } else {
      console.log(`too short to measure growth: run longer than the ${WARMUP_S} s warm-up plus two samples`);
    }
  } finally {
    await bench.close();
  }
} finally {
  await stripe?.close();
  postgres?.stop();
}
