/**
 * End to end: complete sessions per second on one node — Authorize, start, meter values, stop, the CDR priced and
 * stored, and whatever the stop's transaction books after it (invoice, capture, ledger, where those exist) — on a
 * durable PostgreSQL. Stations run back-to-back sessions (no idle time, samples sent as soon as acknowledged). The
 * figure is counted in the database (CDRs written per second), not only from the stations' side.
 *
 *   npx tsx bench/e2e.bench.ts [--stations 200] [--duration 20] [--samples 2] [--pglite] [--unix-socket]
 */
import {
  type BenchDatabase,
  countRows,
  describeMachine,
  fmt,
  hasFlag,
  numberFlag,
  runLoadChild,
  startBenchServer,
} from '../src/load/bench-harness.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.ts';
import { benchDatabaseUrl } from './load-bench-server.ts';

const stations = numberFlag('stations', 200);
const durationS = numberFlag('duration', 20);
const samples = numberFlag('samples', 2);

console.log(`end-to-end benchmark — ${describeMachine()}`);
console.log(`${stations} stations, ${durationS} s, back-to-back sessions of ${samples} meter values each\n`);

const postgres: PostgresServer | undefined = hasFlag('pglite')
  ? undefined
  : await startPostgres({ durable: true, maxConnections: 100 });
const database: BenchDatabase = postgres
  ? { kind: 'postgres', url: benchDatabaseUrl(postgres, hasFlag('unix-socket')) }
  : { kind: 'pglite' };
try {
  const bench = await startBenchServer(database, stations);
  try {
    const report = await runLoadChild([
      '--url',
      bench.server.ocppUrl,
      '--stations',
      String(stations),
      '--duration',
      String(durationS),
      '--meter-interval',
      '0',
      '--samples',
      String(samples),
      '--idle',
      '0',
      '--connect-rate',
      '1000',
    ]);
    const tables = ['sessions', 'cdrs', 'invoices', 'payments', 'ledger_transfers', 'ledger_postings'];
    const counts = Object.fromEntries(
      await Promise.all(tables.map(async (t) => [t, await countRows(bench.server, t)])),
    );
    const cdrs = counts.cdrs ?? 0;
    console.log(
      `${database.kind === 'postgres' ? `PostgreSQL (fsync on${hasFlag('unix-socket') ? ', Unix socket' : ''})` : 'PGlite (on disk)'}: ` +
        `${fmt(cdrs / report.wallTimeS)} CDRs/s over the whole run (${cdrs} CDRs in ${report.wallTimeS} s incl. ramp and drain); ` +
        `stations saw ${report.sessions.completed} sessions completed (${report.sessions.perSecond}/s)`,
    );
    console.log(
      `messages ${report.messages.perSecond}/s, ack latency in the window p50 ${fmt(report.windowAckLatency.p50Ms)} ms, p99 ${fmt(report.windowAckLatency.p99Ms)} ms; ` +
        `StopTransaction p99 ${fmt(report.windowByAction.StopTransaction?.p99Ms)} ms; errors ${report.errors.total}`,
    );
    console.log(
      `rows: ${Object.entries(counts)
        .map(([table, n]) => `${table} ${n ?? 'n/a'}`)
        .join(', ')}`,
    );
    console.log(
      `ratio to the target of 500 sessions/s: ${fmt((cdrs / report.wallTimeS / 500) * 100)} % ` +
        `(billed exactly once: ${cdrs === report.sessions.completed ? 'yes, one CDR per completed session' : `NO: ${cdrs} CDRs for ${report.sessions.completed} sessions`})`,
    );
  } finally {
    await bench.close();
  }
} finally {
  postgres?.stop();
}
