/**
 * Gateway throughput and latency: meter values from many stations, each sending its next sample as soon as the
 * last one is acknowledged, against (1) Voltbill with full processing on a durable PostgreSQL (fsync on) and
 * (2) a bare `ws` server that only acknowledges — the physical limit of this machine. Prints both and the ratio.
 *
 *   npx tsx bench/gateway.bench.ts [--stations 200] [--duration 20] [--no-bare] [--unix-socket]
 *
 * `--no-bare` skips the bare server (for profiling Voltbill alone: `node --cpu-prof --import tsx bench/...`).
 */

import { startAckOnlyServer } from '../src/load/ack-only-server.ts';
import {
  describeMachine,
  fmt,
  hasFlag,
  numberFlag,
  runLoadChild,
  startBenchServer,
} from '../src/load/bench-harness.ts';
import type { LoadReport } from '../src/load/load-report.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import { benchDatabaseUrl } from './load-bench-server.ts';

const stations = numberFlag('stations', 200);
const durationS = numberFlag('duration', 20);
const loadArgs = (url: string) => [
  '--url',
  url,
  '--stations',
  String(stations),
  '--duration',
  String(durationS),
  '--meter-interval',
  '0',
  '--samples',
  '1000000',
  '--idle',
  '0',
  '--connect-rate',
  '1000',
  '--drain-timeout',
  '30',
];

console.log(`gateway benchmark — ${describeMachine()}`);
console.log(
  `${stations} stations, ${durationS} s, closed loop (next meter value as soon as the last is acknowledged)\n`,
);

const bareReport = hasFlag('no-bare') ? undefined : await runBare();
if (bareReport) print('bare ws, acknowledge only', bareReport);

const postgres = await startPostgres({ durable: true, maxConnections: 100 });
let voltbillReport: LoadReport;
try {
  const bench = await startBenchServer(
    { kind: 'postgres', url: benchDatabaseUrl(postgres, hasFlag('unix-socket')) },
    stations,
  );
  try {
    voltbillReport = await runLoadChild(loadArgs(bench.server.ocppUrl));
  } finally {
    await bench.close();
  }
} finally {
  postgres.stop();
}
print(`Voltbill on PostgreSQL (fsync on${hasFlag('unix-socket') ? ', Unix socket' : ''})`, voltbillReport);

if (bareReport) {
  const ratio = voltbillReport.messages.perSecond / Math.max(1, bareReport.messages.perSecond);
  console.log(
    `\nratio Voltbill / bare: ${(ratio * 100).toFixed(1)} % of the physical limit ` +
      `(${voltbillReport.messages.perSecond} / ${bareReport.messages.perSecond} messages/s); ` +
      `p99 ${fmt(voltbillReport.ackLatency.p99Ms)} ms vs ${fmt(bareReport.ackLatency.p99Ms)} ms`,
  );
}
const meterValues = voltbillReport.byAction.MeterValues;
console.log(
  `target ≥ 10,000 meter values/s with p99 ≤ 100 ms: ${voltbillReport.messages.perSecond >= 10_000 && (meterValues?.p99Ms ?? Infinity) <= 100 ? 'met' : 'NOT met'} on this machine`,
);

async function runBare(): Promise<LoadReport> {
  const bare = await startAckOnlyServer();
  return runLoadChild(loadArgs(bare.url)).finally(() => bare.close());
}

function print(label: string, report: LoadReport): void {
  const l = report.ackLatency;
  console.log(
    `${label.padEnd(36)} ${String(report.messages.perSecond).padStart(7)} messages/s  ` +
      `p50 ${fmt(l.p50Ms)} ms  p95 ${fmt(l.p95Ms)} ms  p99 ${fmt(l.p99Ms)} ms  max ${fmt(l.maxMs)} ms  ` +
      `errors ${report.errors.total}  (window ${report.windowS} s, ${report.messages.acknowledged} acknowledged)`,
  );
}
