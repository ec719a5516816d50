/**
 * Gateway throughput and latency: meter values from many stations, each sending its next sample as soon as the
 * last one is acknowledged, against (1) Voltbill with full processing on a durable PostgreSQL (fsync on) and
 * (2) a bare `ws` server that only acknowledges — the physical limit of this machine. Prints both and the ratio.
 *
 *   npx tsx bench/gateway.bench.ts [--stations 200] [--duration 20] [--meter-interval S] [--no-bare] [--unix-socket]
 *                                  [--protocol ocpp1.6|ocpp2.0.1|mixed]
 *
 * With OCPP 2.0.1 a station's meter values are TransactionEvent Updated (one long transaction per station), the
 * messages that carry them in that version.
 *
 * `--warmup S` opens the measurement window S seconds after every station is online (the fleet's first boots and
 * session starts are a burst of their own). `--meter-interval S` paces the stations instead: each sends its next meter value S seconds after the last was
 * acknowledged, so N stations offer about N / S messages/s whatever the server does (an open loop, as a real network
 * is); the figure that matters is then the latency at that rate: `--stations 2000 --meter-interval 0.2` offers
 * 10,000/s. The closed loop (default, S = 0) measures the most the server takes, its latency being mostly queueing.
 *
 * `--no-bare` skips the bare server (for profiling Voltbill alone: `node --cpu-prof --import tsx bench/...`).
 */

import { startAckOnlyServer } from '../src/load/ack-only-server.ts';
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
import type { LatencySummary, LoadReport } from '../src/load/load-report.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import { type DiskGrowth, describeDiskGrowth, diskGrowth, takeDiskSnapshot } from './disk-usage.ts';
import { benchDatabaseUrl } from './load-bench-server.ts';

const stations = numberFlag('stations', 200);
const durationS = numberFlag('duration', 20);
const protocol = protocolFlag();
const meterIntervalS = numberFlag('meter-interval', 0);
const warmupS = numberFlag('warmup', 0);
const loadArgs = (url: string) =>
  loadFlags({
    url,
    protocol,
    stations,
    duration: durationS,
    'meter-interval': meterIntervalS,
    samples: 1_000_000,
    idle: 0,
    'connect-rate': 1000,
    warmup: warmupS,
    'drain-timeout': 30,
  });

console.log(`gateway benchmark — ${describeMachine()}`);
console.log(
  meterIntervalS > 0
    ? `${stations} stations (${protocol}), ${durationS} s, paced: each sends a meter value ${meterIntervalS} s after the last was acknowledged (offered ≤ ${Math.round(stations / meterIntervalS)}/s)\n`
    : `${stations} stations (${protocol}), ${durationS} s, closed loop (next meter value as soon as the last is acknowledged)\n`,
);

const bareReport = hasFlag('no-bare') ? undefined : await runBare();
if (bareReport) print('bare ws, acknowledge only', bareReport);

const postgres = await startPostgres({ durable: true, maxConnections: 100 });
let voltbillReport: LoadReport;
let disk: DiskGrowth;
try {
  const bench = await startBenchServer(
    { kind: 'postgres', url: benchDatabaseUrl(postgres, hasFlag('unix-socket')) },
    stations,
  );
  try {
    const diskBefore = await takeDiskSnapshot(postgres.url);
    voltbillReport = await runLoadChild(loadArgs(bench.server.ocppUrl));
    disk = diskGrowth(diskBefore, await takeDiskSnapshot(postgres.url));
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
      `p99 ${fmt(voltbillReport.windowAckLatency.p99Ms)} ms vs ${fmt(bareReport.windowAckLatency.p99Ms)} ms`,
  );
}
// Per acknowledged call of the whole run (boots, statuses and session starts included, nearly all meter values).
console.log(describeDiskGrowth(disk, voltbillReport.messages.acknowledged, 'message'));
// The slowest p99 of the actions that carry meter values (both, with --protocol mixed).
const meterValuesP99Ms = Math.max(...meterValueActions(voltbillReport).map(([, x]) => x.p99Ms ?? Infinity));
console.log(
  `target ≥ 10,000 meter values/s with p99 ≤ 100 ms: ${voltbillReport.messages.perSecond >= 10_000 && meterValuesP99Ms <= 100 ? 'met' : 'NOT met'} on this machine`,
);

/**
 * The window's figures of the actions that carry meter values: MeterValues (OCPP 1.6) and TransactionEvent (2.0.1,
 * where the samples are Updated events; its Started and Ended, a few per station in a run, are in it too).
 */
function meterValueActions(report: LoadReport): [string, LatencySummary][] {
  return (['MeterValues', 'TransactionEvent'] as const).flatMap((action) => {
    const stats = report.windowByAction[action];
    return stats ? [[action, stats] as [string, LatencySummary]] : [];
  });
}

async function runBare(): Promise<LoadReport> {
  const bare = await startAckOnlyServer();
  return runLoadChild(loadArgs(bare.url)).finally(() => bare.close());
}

function print(label: string, report: LoadReport): void {
  const l = report.ackLatency;
  const w = report.windowAckLatency;
  const perAction = meterValueActions(report)
    .map(([action, x]) => `${action} in the window: ${x.count}, p50 ${fmt(x.p50Ms)} ms, p99 ${fmt(x.p99Ms)} ms; `)
    .join('');
  console.log(
    `${label.padEnd(36)} ${String(report.messages.perSecond).padStart(7)} messages/s  ` +
      `p50 ${fmt(w.p50Ms)} ms  p95 ${fmt(w.p95Ms)} ms  p99 ${fmt(w.p99Ms)} ms  max ${fmt(w.maxMs)} ms  ` +
      `errors ${report.errors.total}  (window ${report.windowS} s, ${w.count} acknowledged in it)\n` +
      `${''.padEnd(36)} ${perAction}` +
      `all calls of the run (ramp and drain included): p99 ${fmt(l.p99Ms)} ms, max ${fmt(l.maxMs)} ms` +
      slowestAction(report) +
      (process.env.BENCH_ALL_ACTIONS
        ? Object.entries(report.windowByAction)
            .map(([a, x]) => `\n  ${a}: ${x.count}, p50 ${fmt(x.p50Ms)} ms, p99 ${fmt(x.p99Ms)} ms`)
            .join('')
        : ''),
  );
}

/** Which action the run's slowest call was, and that action's own p99 over the whole run (ramp included). */
function slowestAction(report: LoadReport): string {
  const slowest = Object.entries(report.byAction).sort(([, a], [, b]) => (b.maxMs ?? 0) - (a.maxMs ?? 0))[0];
  if (!slowest) return '';
  const [action, x] = slowest;
  return ` (the slowest: ${action}, ${x.count} in the run, p99 ${fmt(x.p99Ms)} ms)`;
}
