/**
 * CPU cost per message and per session, the figure that survives a shared machine: the server's own CPU time
 * (process.cpuUsage, the server runs in this process) and the CPU time of every PostgreSQL process (/proc, Linux
 * only), sampled every second and compared between the points where 30 % and 90 % of the run's inbound requests had
 * been answered (read from the server's /metrics), so that the ramp (boots, first starts) and the drain stay out.
 * Other processes on the machine slow the run down but do not enter these figures.
 *
 *   npx tsx bench/cpu-cost.ts [gateway|e2e] [--stations 200] [--duration 15] [--unix-socket] [--statements]
 *                             [--protocol ocpp1.6|ocpp2.0.1|mixed]
 *
 * `--statements` loads pg_stat_statements and prints PostgreSQL's ten most expensive statements over the same
 * steady phase (execution time including lock waits, per request answered).
 *
 * `gateway`: closed-loop meter values (as bench/gateway.bench.ts); `e2e`: back-to-back sessions of 2 meter values
 * (as bench/e2e.bench.ts --pay none: not paid by card, since captures run after the stops, outside the window).
 * Not a *.bench.ts file, so `npm run bench` does not run it; it prints, never asserts.
 */
import os from 'node:os';
import pg from 'pg';
import {
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
import { startPostgres } from '../test/support/postgres-server.ts';
import { benchDatabaseUrl } from './load-bench-server.ts';
import { childrenCpuS, postgresCpuS } from './process-cpu.ts';

const mode = process.argv.includes('e2e') ? 'e2e' : 'gateway';
const stations = numberFlag('stations', 200);
const durationS = numberFlag('duration', 15);
/**
 * pg_stat_statements over the steady phase: reset at 30 % of the run's duration and read at 90 %, and divided by the
 * requests answered in between (close to, not exactly, the CPU window above, which is placed by requests).
 */
class StatementWindow {
  private readonly client: pg.Client;
  private resetAt: number | undefined;
  private rows: { query: string; calls: number; total_ms: number }[] | undefined;
  /** Requests answered between the reset and the read. */
  private requests = 0;
  private readonly started = Date.now();

  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url });
  }

  async open(): Promise<void> {
    await this.client.connect();
    await this.client.query('create extension if not exists pg_stat_statements');
  }

  async observe(messages: number): Promise<void> {
    const elapsedS = (Date.now() - this.started) / 1000;
    if (this.resetAt === undefined && elapsedS >= durationS * 0.3) {
      this.resetAt = messages;
      await this.client.query('select pg_stat_statements_reset()');
    } else if (this.resetAt !== undefined && this.rows === undefined && elapsedS >= durationS * 0.9) {
      this.requests = messages - this.resetAt;
      const result = await this.client.query(
        `select query, calls::int as calls, (total_exec_time + total_plan_time)::float8 as total_ms
           from pg_stat_statements order by total_exec_time + total_plan_time desc limit 12`,
      );
      this.rows = result.rows;
    }
  }

  async print(): Promise<void> {
    await this.client.end();
    if (!this.rows || this.requests === 0) {
      console.log('statements: the window did not close (run longer)');
      return;
    }
    const all = this.rows.reduce((sum, row) => sum + row.total_ms, 0);
    console.log(`statements over ${this.requests} requests (top 12; µs per request, calls per request):`);
    for (const row of this.rows) {
      const text = row.query.replace(/\s+/g, ' ').slice(0, 110);
      console.log(
        `  ${fmt((row.total_ms * 1000) / this.requests).padStart(8)} µs  ${(row.calls / this.requests).toFixed(4).padStart(7)}  ` +
          `${fmt((100 * row.total_ms) / all).padStart(5)} %  ${text}`,
      );
    }
  }
}

console.log(`CPU cost (${mode}) — ${describeMachine()}`);
const withStatements = hasFlag('statements');
const postgres = await startPostgres({ durable: true, maxConnections: 100, statementStatistics: withStatements });
try {
  const url = benchDatabaseUrl(postgres, hasFlag('unix-socket'));
  const bench = await startBenchServer({ kind: 'postgres', url }, stations, { payByCard: hasFlag('pay-card') });
  try {
    const answered = async () => {
      const text = await (await fetch(`${bench.server.httpUrl}/metrics`)).text();
      let n = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith('voltbill_ocpp_messages_total{') && line.includes('direction="in"')) {
          n += Number(line.split(' ').pop());
        }
      }
      return n;
    };
    type Snapshot = { cpu: NodeJS.CpuUsage; postgresS: number; loadS: number; messages: number };
    const snapshots: Snapshot[] = [];
    const statements = withStatements ? new StatementWindow(postgres.url) : undefined;
    await statements?.open();
    const cdrsBefore = (await countRows(bench.server, 'cdrs')) ?? 0;
    const timer = setInterval(() => {
      void answered().then((messages) => {
        snapshots.push({
          cpu: process.cpuUsage(),
          postgresS: postgresCpuS(postgres.dataDir),
          loadS: childrenCpuS(),
          messages,
        });
        void statements?.observe(messages);
      });
    }, 1000);
    const report = await runLoadChild(
      loadFlags({
        url: bench.server.ocppUrl,
        protocol: protocolFlag(),
        stations,
        duration: durationS,
        'meter-interval': 0,
        samples: mode === 'e2e' ? 2 : 1_000_000,
        idle: 0,
        'connect-rate': 1000,
        'drain-timeout': 30,
      }),
    );
    clearInterval(timer);
    const cdrs = ((await countRows(bench.server, 'cdrs')) ?? 0) - cdrsBefore;
    console.log(
      `${report.messages.perSecond} msg/s, p50 ${fmt(report.ackLatency.p50Ms)} ms, p99 ${fmt(report.ackLatency.p99Ms)} ms, ` +
        `errors ${report.errors.total}; ${cdrs} CDRs (${fmt(cdrs / report.wallTimeS)}/s)`,
    );
    const total = snapshots.at(-1)?.messages ?? 0;
    const from = snapshots.find((s) => s.messages >= 0.3 * total);
    const to = [...snapshots].reverse().find((s) => s.messages <= 0.9 * total);
    if (!from || !to || to.messages <= from.messages) {
      console.log('steady phase too short to measure: run longer (--duration)');
    } else {
      const messages = to.messages - from.messages;
      const nodeUs = to.cpu.user + to.cpu.system - from.cpu.user - from.cpu.system;
      const postgresUs = (to.postgresS - from.postgresS) * 1e6;
      console.log(
        `steady phase: ${messages} requests answered; CPU per request: node ${fmt(nodeUs / messages)} µs + ` +
          `PostgreSQL ${fmt(postgresUs / messages)} µs = ${fmt((nodeUs + postgresUs) / messages)} µs ` +
          `(and the load generator's stations ${fmt(((to.loadS - from.loadS) * 1e6) / messages)} µs)`,
      );
      // The budget: what the machine's cores allow at this cost, fully busy. With the stations on the same cores
      // (this run) and with them elsewhere (a real network). Queueing needs headroom below either figure.
      const loadUs = (to.loadS - from.loadS) * 1e6;
      const coreUs = os.availableParallelism() * 1e6;
      console.log(
        `the ${os.availableParallelism()} cores allow at most ${Math.round((coreUs * messages) / (nodeUs + postgresUs + loadUs))} requests/s ` +
          `at this cost with the stations on them, ${Math.round((coreUs * messages) / (nodeUs + postgresUs))}/s with the stations elsewhere ` +
          `(the server's process alone on one core: ${Math.round((1e6 * messages) / nodeUs)}/s)`,
      );
      if (mode === 'e2e' && report.messages.acknowledged > 0) {
        // Sessions in the steady phase, estimated from the run's requests per completed session.
        const perSession = report.messages.acknowledged / Math.max(1, cdrs);
        console.log(
          `CPU per complete session, ${hasFlag('pay-card') ? 'paid by card' : 'not paid by card'} (≈${fmt(perSession)} requests each): node ${fmt(((nodeUs / messages) * perSession) / 1000)} ms + ` +
            `PostgreSQL ${fmt(((postgresUs / messages) * perSession) / 1000)} ms`,
        );
      }
    }
    await statements?.print();
  } finally {
    await bench.close();
  }
} finally {
  postgres.stop();
}
