/**
 * Connections: N stations held by one Voltbill node (on PostgreSQL), the server's memory per connection, then a
 * storm of all of them dropping their connection and reconnecting within a window. The stations run in a child
 * process; the server runs here, so its memory is measured alone (after a full GC: run with --expose-gc, as
 * `npm run bench` does). The same fleet against a bare `ws` server gives the floor for the memory figure.
 *
 *   node --expose-gc --import tsx bench/connections.bench.ts [--stations 2000] [--storm-window 30] [--pglite]
 */
import { startAckOnlyServer } from '../src/load/ack-only-server.ts';
import {
  type BenchDatabase,
  describeMachine,
  fmt,
  hasFlag,
  loadFlags,
  numberFlag,
  runLoadChild,
  startBenchServer,
} from '../src/load/bench-harness.ts';
import type { LoadReport } from '../src/load/load-report.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.ts';

const stations = numberFlag('stations', 2000);
const stormWindowS = numberFlag('storm-window', 30);
const connectRate = numberFlag('connect-rate', 500);
const rampS = Math.ceil(stations / connectRate) + 10;
const stormAtS = rampS + 15;
const durationS = stormAtS + stormWindowS + 15;
const gc = (globalThis as { gc?: () => void }).gc;

console.log(`connections benchmark — ${describeMachine()}`);
console.log(
  `${stations} stations (boot, status, heartbeat; no sessions), connect rate ${connectRate}/s, ` +
    `storm at ${stormAtS} s spread over ${stormWindowS} s, run ${durationS} s${gc ? '' : ' (no --expose-gc: memory is approximate)'}\n`,
);

function heapBytes(): { heap: number; rss: number } {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external + usage.arrayBuffers, rss: usage.rss };
}

/** Waits until `connected()` reaches the fleet size (or the time is up), then measures the memory. */
async function measureWhenConnected(connected: () => number, baseline: { heap: number; rss: number }) {
  // The child needs a while to start (tsx compiles the sources) before its ramp begins.
  const deadline = Date.now() + rampS * 1000 + 120_000;
  while (connected() < stations && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  const reached = connected();
  await new Promise((r) => setTimeout(r, 2000));
  const now = heapBytes();
  return {
    reached,
    heapPerConnectionKiB: (now.heap - baseline.heap) / Math.max(1, reached) / 1024,
    rssPerConnectionKiB: (now.rss - baseline.rss) / Math.max(1, reached) / 1024,
  };
}

const loadArgs = (url: string) =>
  loadFlags({
    url,
    stations,
    duration: durationS,
    'no-sessions': true,
    'connect-rate': connectRate,
    'reconnect-storm-at': stormAtS,
    'storm-window': stormWindowS,
    'heartbeat-interval': 60,
    'call-timeout-ms': 60_000,
  });

// The floor: a bare ws server holding the same sockets.
const bare = await startAckOnlyServer({ heartbeatIntervalS: 60 });
const bareBaseline = heapBytes();
const bareRun = runLoadChild(loadArgs(bare.url));
const bareMemory = await measureWhenConnected(bare.connections, bareBaseline);
const bareReport = await bareRun;
await bare.close();

const postgres: PostgresServer | undefined = hasFlag('pglite')
  ? undefined
  : await startPostgres({ durable: true, maxConnections: 100 });
const database: BenchDatabase = postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'pglite' };
let report: LoadReport;
let memory: Awaited<ReturnType<typeof measureWhenConnected>>;
try {
  const bench = await startBenchServer(database, stations);
  try {
    const baseline = heapBytes();
    const run = runLoadChild(loadArgs(bench.server.ocppUrl));
    memory = await measureWhenConnected(() => bench.server.gateway.connectedStations().length, baseline);
    report = await run;
  } finally {
    await bench.close();
  }
} finally {
  postgres?.stop();
}

const label = database.kind === 'postgres' ? 'Voltbill on PostgreSQL' : 'Voltbill on PGlite';
for (const [name, m, r] of [
  ['bare ws', bareMemory, bareReport],
  [label, memory, report],
] as const) {
  console.log(
    `${name.padEnd(24)} held ${m.reached}/${stations}; memory per connection: heap+external ${fmt(m.heapPerConnectionKiB)} KiB, ` +
      `RSS ${fmt(m.rssPerConnectionKiB)} KiB`,
  );
  const storm = r.storm;
  console.log(
    `${''.padEnd(24)} storm: ${storm ? (storm.allBackAfterS === null ? `${storm.notReconnected} stations NOT back` : `all ${storm.stations} back after ${fmt(storm.allBackAfterS)} s`) : 'none'}, ` +
      `failed boots ${storm?.failedBoots ?? '-'}, failed connects ${storm?.failedConnects ?? '-'}, ` +
      `boot p99 ${fmt(r.byAction.BootNotification?.p99Ms)} ms, errors ${r.errors.total}`,
  );
}
console.log(
  `\nratio memory per connection Voltbill / bare ws: ${fmt(memory.heapPerConnectionKiB / Math.max(0.001, bareMemory.heapPerConnectionKiB))}× ` +
    `(target < 100 KiB per connection: ${memory.heapPerConnectionKiB < 100 ? 'met' : 'NOT met'})`,
);
