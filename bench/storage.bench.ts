/**
 * Embedded PGlite versus PostgreSQL for the same workloads: (1) meter values as fast as acknowledged, (2) back-to-back
 * complete sessions (CDRs per second counted in the database). PGlite runs on disk in a temporary folder (as
 * `voltbill serve` does by default), PostgreSQL durable (fsync on). Prints each figure and the ratio.
 *
 *   npx tsx bench/storage.bench.ts [--stations 100] [--duration 15] [--protocol ocpp1.6|ocpp2.0.1|mixed]
 */
import {
  type BenchDatabase,
  countRows,
  describeMachine,
  fmt,
  loadFlags,
  numberFlag,
  protocolFlag,
  runLoadChild,
  startBenchServer,
} from '../src/load/bench-harness.ts';
import type { LoadReport } from '../src/load/load-report.ts';
import { startPostgres } from '../test/support/postgres-server.ts';

const stations = numberFlag('stations', 100);
const durationS = numberFlag('duration', 15);
const protocol = protocolFlag();

console.log(`storage benchmark (PGlite vs PostgreSQL) — ${describeMachine()}`);
console.log(`${stations} stations (${protocol}), ${durationS} s per workload\n`);

type Figures = { meterValues: LoadReport; sessions: LoadReport; cdrsPerS: number };

async function measure(database: BenchDatabase): Promise<Figures> {
  const common = (url: string) =>
    loadFlags({ url, protocol, stations, duration: durationS, 'meter-interval': 0, idle: 0, 'connect-rate': 1000 });
  let bench = await startBenchServer(database, stations);
  let meterValues: LoadReport;
  try {
    meterValues = await runLoadChild([...common(bench.server.ocppUrl), '--samples', '1000000']);
  } finally {
    await bench.close();
  }
  bench = await startBenchServer(database, stations);
  try {
    const sessions = await runLoadChild([...common(bench.server.ocppUrl), '--samples', '2']);
    const cdrs = (await countRows(bench.server, 'cdrs')) ?? 0;
    return { meterValues, sessions, cdrsPerS: cdrs / sessions.wallTimeS };
  } finally {
    await bench.close();
  }
}

const pglite = await measure({ kind: 'pglite' });
const postgres = await startPostgres({ durable: true, maxConnections: 100 });
let pg: Figures;
try {
  pg = await measure({ kind: 'postgres', url: postgres.url });
} finally {
  postgres.stop();
}

for (const [label, f] of [
  ['PGlite (embedded, disk)', pglite],
  ['PostgreSQL (fsync on)', pg],
] as const) {
  // The steady state's p99 (measurement window); a run whose fleet was still starting when the duration ended has
  // no window, and then the whole run's p99 is shown, marked.
  const p99 = (r: LoadReport) =>
    r.windowAckLatency.count > 0
      ? `${fmt(r.windowAckLatency.p99Ms)} ms`
      : `${fmt(r.ackLatency.p99Ms)} ms over the whole run, no steady window`;
  console.log(
    `${label.padEnd(24)} meter values ${String(f.meterValues.messages.perSecond).padStart(6)}/s ` +
      `(p99 ${p99(f.meterValues)}); sessions ${fmt(f.cdrsPerS)} CDRs/s ` +
      `(p99 ${p99(f.sessions)}); errors ${f.meterValues.errors.total + f.sessions.errors.total}`,
  );
}
console.log(
  `\nratio PostgreSQL / PGlite: meter values ${fmt(pg.meterValues.messages.perSecond / Math.max(1, pglite.meterValues.messages.perSecond), 2)}×, ` +
    `sessions ${fmt(pg.cdrsPerS / Math.max(0.001, pglite.cdrsPerS), 2)}×`,
);
