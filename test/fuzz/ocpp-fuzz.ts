/**
 * Protocol fuzzer for the OCPP gateway: starts Voltbill in this process on an embedded database in memory (demo
 * data seeded), opens raw WebSocket stations (DEMO-0001..), boots them and sends hostile frames from a seeded PRNG.
 * --skip kind1,kind2 leaves frame kinds out (e.g. one a known bug makes fatal). Each frame is checked against what
 * the protocol prescribes for its kind (reply-check.ts): the reply's id and the only CALLRESULT/CALLERROR codes that
 * are right for it (never InternalError or GenericError), no reply where none is due, the 1007/1009 close where the
 * WebSocket layer must close, and the 1008 close exactly when the bad messages in a row pass the gateway's limit; a
 * close instead of a reply, or a missing reply, is a violation. Also: the process never crashes, /health stays 200,
 * the JS heap after a full GC grows by at most 50 % (and RSS, with --database postgres only). Exit code 1 on any
 * violation. See docs/load-and-chaos.md.
 *
 *   npx tsx test/fuzz/ocpp-fuzz.ts [--frames N] [--seed S] [--protocol ocpp1.6|ocpp2.0.1] [--stations K] [--skip kinds]
 *                                   [--database pglite|postgres]
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { LOAD_TEST_LIMITS } from '../../src/load/load-test-limits.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { DEMO_STATION_COUNT, demoStationId } from '../../src/seed/seed-demo.ts';
import { startPostgres } from '../support/postgres-server.ts';
import { FuzzConnection } from './fuzz-connection.ts';
import { bootFrame, type FuzzFrame, frameGenerator, mulberry32, type Protocol } from './fuzz-frames.ts';
import { badMessagesClose, checkReply, judge, type Outcome, type Prescription, prescribe } from './reply-check.ts';

type Options = {
  frames: number;
  seed: number;
  protocols: Protocol[];
  stations: number;
  skip: Set<string>;
  database: 'pglite' | 'postgres';
};

function parseArgs(argv: string[]): Options {
  const options: Options = {
    frames: 20_000,
    seed: 1,
    protocols: ['ocpp1.6', 'ocpp2.0.1'],
    stations: 10,
    skip: new Set<string>(),
    database: 'pglite',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--frames') options.frames = Number.parseInt(value, 10);
    else if (flag === '--seed') options.seed = Number.parseInt(value, 10);
    else if (flag === '--skip') options.skip = new Set(value.split(','));
    else if (flag === '--database' && (value === 'pglite' || value === 'postgres')) options.database = value;
    else if (flag === '--stations') options.stations = Number.parseInt(value, 10);
    else if (flag === '--protocol' && (value === 'ocpp1.6' || value === 'ocpp2.0.1')) options.protocols = [value];
    else throw new Error(`unknown option ${flag} ${value}`);
  }
  if (!(options.frames > 0 && Number.isFinite(options.seed))) throw new Error('--frames and --seed must be numbers');
  if (!(options.stations >= 1 && options.stations <= DEMO_STATION_COUNT)) {
    throw new Error(`--stations must be 1..${DEMO_STATION_COUNT} (the demo stations)`);
  }
  return options;
}

/** How long a prescribed reply or close may take before it counts as missing (a violation). */
const REPLY_TIMEOUT_MS = 5_000;
const HEALTH_EVERY_FRAMES = 2_000;
const MAX_CONNECT_ATTEMPTS = 50;
const MAX_RSS_GROWTH = 0.5;
/** The JS heap after a full garbage collection may grow at most this much: more is a leak in our code. */
const MAX_HEAP_GROWTH = 0.5;
/** Bad messages in a row the gateway tolerates here (default 10): raised so that the run mostly measures parsing,
 * yet low enough that the limit is reached now and then and its 1008 close is checked (expected exactly then). */
const MAX_BAD_MESSAGES = '20';
/** The gateway answers GenericError to a station over its message rate; at this rate or above the fuzzer (one CALL
 * at a time per station) never gets there, so GenericError is never a right reply. */
const MIN_MESSAGES_PER_S = 10_000;

// A forced GC without starting node with --expose-gc: the flag is set at run time and `gc` taken from a new context.
v8.setFlagsFromString('--expose-gc');
const forceGc = vm.runInNewContext('gc') as () => void;

const stats = {
  sent: 0,
  byKind: new Map<string, number>(),
  replies: new Map<string, number>(),
  disconnects: new Map<string, number>(),
  badMessageCloses: 0,
  maxBadMessages: 0,
  connects: 0,
  connectFailures: 0,
  healthChecks: 0,
  violations: [] as string[],
};
const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
const violation = (problem: string) => {
  if (stats.violations.length < 1000) stats.violations.push(problem);
};

process.on('uncaughtException', (error) => violation(`uncaught exception: ${error.stack ?? error}`));
process.on('unhandledRejection', (error) => violation(`unhandled rejection: ${String(error)}`));

async function checkHealth(server: RunningServer): Promise<void> {
  stats.healthChecks++;
  try {
    const response = await fetch(`${server.httpUrl}/health`);
    if (response.status !== 200) violation(`/health answered ${response.status}`);
  } catch (error) {
    violation(`/health failed: ${String(error)}`);
  }
}

async function connectAndBoot(server: RunningServer, stationId: string, protocol: Protocol): Promise<FuzzConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await FuzzConnection.open(`${server.ocppUrl}/${stationId}`, protocol, {
        onServerCall: (label) => bump(stats.replies, label),
        onViolation: violation,
      });
      stats.connects++;
      const id = `boot-${stats.connects}`;
      connection.send(bootFrame(protocol, id));
      const outcome = await connection.next(REPLY_TIMEOUT_MS);
      const checked = outcome.kind === 'reply' ? checkReply(protocol, outcome.text) : undefined;
      const accepted =
        checked?.ok === true &&
        checked.kind === 'result' &&
        checked.id === id &&
        (checked.frame[2] as { status?: string }).status === 'Accepted';
      if (!accepted) violation(`${stationId}: BootNotification not accepted (${JSON.stringify(outcome)})`);
      return connection;
    } catch (error) {
      stats.connectFailures++;
      if (attempt >= MAX_CONNECT_ATTEMPTS) throw new Error(`${stationId}: cannot connect: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The message id of a frame (sent or received), when it has one. */
function messageIdOf(data: string | Buffer): string | undefined {
  try {
    const frame: unknown = JSON.parse(String(data));
    return Array.isArray(frame) && typeof frame[1] === 'string' ? frame[1] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends one station's frames one at a time: a frame the protocol prescribes a reply (or a close) for waits for it
 * and is judged (reply-check.ts); a frame that prescribes none is not waited for, and a reply to it that arrives
 * later is a violation. The fuzzer keeps the gateway's count of bad messages in a row as the judged outcomes move
 * it and, when the count passes the limit, expects the 1008 close right then, and nothing else: any other close, a
 * close instead of a reply or a missing reply is a violation. After a close or a violation it reconnects (a new
 * connection starts the count afresh) and carries on.
 */
async function fuzzStation(
  server: RunningServer,
  index: number,
  protocol: Protocol,
  quota: number,
  options: Options,
  limits: { maxFrameBytes: number; maxBadMessages: number },
): Promise<void> {
  const stationId = demoStationId(index);
  const rng = mulberry32(options.seed * 1000 + index);
  const frames = frameGenerator(protocol, index, rng, limits.maxFrameBytes);
  let connection = await connectAndBoot(server, stationId, protocol);
  /** The gateway's count of bad messages in a row on this connection, as the judged outcomes predict it. */
  let bad = 0;
  /** Frames sent since the last judged reply that prescribe no reply, by message id. */
  const unanswered = new Map<string, FuzzFrame>();
  const reconnect = async () => {
    connection.close();
    connection = await connectAndBoot(server, stationId, protocol);
    bad = 0;
    unanswered.clear();
  };
  /** The server's next frame or close; a reply to a frame that prescribes none is reported and skipped. */
  const nextOutcome = async (): Promise<Outcome> => {
    for (;;) {
      const outcome = await connection.next(REPLY_TIMEOUT_MS);
      const earlier = outcome.kind === 'reply' ? unanswered.get(messageIdOf(outcome.text) ?? '') : undefined;
      if (!earlier) return outcome;
      const judged = judge(protocol, earlier, prescribe(protocol, earlier), outcome);
      violation(`${stationId}: ${judged.ok ? 'unexpected reply' : judged.problem}`);
    }
  };
  /** Waits for what `prescription` says comes after `frame`, judges it; false when the connection must be renewed. */
  const expect = async (frame: FuzzFrame, prescription: Prescription): Promise<boolean> => {
    const outcome = await nextOutcome();
    const judged = judge(protocol, frame, prescription, outcome);
    if (outcome.kind === 'closed')
      bump(stats.disconnects, judged.ok ? `${outcome.code}` : `${outcome.code} (unexpected)`);
    if (!judged.ok) {
      violation(`${stationId}: ${judged.problem}`);
      return false;
    }
    bump(stats.replies, judged.label);
    if (prescription.answer === 'close') return false;
    unanswered.clear();
    bad = judged.effect === 'bad' ? bad + 1 : judged.effect === 'reset' ? 0 : bad;
    return true;
  };
  /** After a bad message: past the limit the gateway must close the connection (1008) now. */
  const expectLimit = async (frame: FuzzFrame): Promise<boolean> => {
    if (bad <= limits.maxBadMessages) return true;
    stats.badMessageCloses++;
    return expect(frame, badMessagesClose(limits.maxBadMessages));
  };
  /** The connection is closing though neither a reply nor a close was due (after frames that prescribe no reply). */
  const closedUnexpectedly = async (after: string) => {
    let outcome = await nextOutcome();
    for (; outcome.kind === 'reply'; outcome = await nextOutcome()) {
      violation(`${stationId}: unexpected frame ${outcome.text.slice(0, 200)}`);
    }
    const code = outcome.kind === 'closed' ? outcome.code : 0;
    bump(stats.disconnects, `${code} (unexpected)`);
    violation(
      `${stationId}: the server closed the connection (${code}) after a frame of kind ${after}, when no close was due`,
    );
  };
  let lastKind = 'BootNotification';
  for (let sent = 0; sent < quota; sent++) {
    if (!connection.open) {
      await closedUnexpectedly(lastKind);
      await reconnect();
    }
    let frame = frames.next();
    while (options.skip.has(frame.kind)) frame = frames.next();
    bump(stats.byKind, frame.kind);
    stats.sent++;
    if (stats.sent % HEALTH_EVERY_FRAMES === 0) await checkHealth(server);
    const prescription = prescribe(protocol, frame);
    connection.send(frame.data);
    let keep: boolean;
    if (prescription.answer === 'none') {
      unanswered.set(messageIdOf(frame.data) ?? '', frame);
      bad++;
      keep = await expectLimit(frame);
    } else {
      keep = (await expect(frame, prescription)) && (await expectLimit(frame));
    }
    if (!keep) await reconnect();
    lastKind = frame.kind;
  }
  // A last Heartbeat: replies to trailing frames that prescribe none, or a close after them, show up before its reply.
  const id = `sync-${index}`;
  const sync: FuzzFrame = { kind: 'heartbeat', data: JSON.stringify([2, id, 'Heartbeat', {}]), callId: id };
  if (connection.open) {
    connection.send(sync.data);
    await expect(sync, prescribe(protocol, sync));
  } else {
    await closedUnexpectedly(lastKind);
  }
  connection.close();
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  // On PostgreSQL the logged frames live in another process, so this process's RSS measures Voltbill alone; on the
  // in-memory PGlite they live in this process's WebAssembly memory and RSS grows with the message log.
  const postgres = options.database === 'postgres' ? await startPostgres() : undefined;
  const config = loadConfig({
    ...LOAD_TEST_LIMITS,
    VOLTBILL_OCPP_MAX_BAD_MESSAGES: MAX_BAD_MESSAGES,
    ...process.env,
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: '0',
    VOLTBILL_HTTP_PORT: '0',
    VOLTBILL_LOG_LEVEL: process.env.VOLTBILL_LOG_LEVEL ?? 'silent',
  });
  if (config.ocppMaxMessagesPerS < MIN_MESSAGES_PER_S) {
    throw new Error(
      `VOLTBILL_OCPP_MAX_MESSAGES_PER_S=${config.ocppMaxMessagesPerS}: the fuzzer needs at least ${MIN_MESSAGES_PER_S} (the load-test limit), else the rate limit's GenericError becomes a right reply`,
    );
  }
  stats.maxBadMessages = config.ocppMaxBadMessages;
  const server = await startServer({
    config,
    seed: true,
    logger: pino({ level: config.logLevel }),
    database: postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'pglite', dataDir: 'memory' },
    command: 'test',
  });
  const startedAt = performance.now();
  const rssStartBytes = process.memoryUsage().rss;
  const heapStartBytes = heapAfterGc();
  try {
    await checkHealth(server);
    // Progress on stderr, so that a run that stalls shows where.
    const progress = setInterval(() => {
      console.error(
        `  ... ${stats.sent} frames sent, ${stats.violations.length} violations, ${stats.connects} connections`,
      );
    }, 10_000);
    progress.unref();
    const perStation = Math.ceil(options.frames / options.stations);
    const runs: Promise<void>[] = [];
    for (let i = 1; i <= options.stations; i++) {
      const protocol = options.protocols[i % options.protocols.length] as Protocol;
      const quota = Math.min(perStation, options.frames - perStation * (i - 1));
      const limits = { maxFrameBytes: config.ocppMaxFrameBytes, maxBadMessages: config.ocppMaxBadMessages };
      if (quota > 0) runs.push(fuzzStation(server, i, protocol, quota, options, limits));
    }
    for (const result of await Promise.allSettled(runs)) {
      if (result.status === 'rejected') violation(`fuzz station failed: ${String(result.reason)}`);
    }
    await checkHealth(server);
    if (({} as { polluted?: unknown }).polluted !== undefined) violation('Object.prototype was polluted');
  } finally {
    const rssEndBytes = process.memoryUsage().rss;
    const heap = { startBytes: heapStartBytes, endBytes: heapAfterGc() };
    report(options, performance.now() - startedAt, rssStartBytes, rssEndBytes, heap);
    // A shutdown that hangs is a finding too, but it must not hang CI: give it 10 s.
    const closed = await Promise.race([
      server.close().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ]);
    if (!closed) {
      console.log('  server.close() did not finish within 10 s');
      process.exitCode = 1;
    }
    postgres?.stop();
  }
}

/** Bytes of JS heap in use after a full, forced garbage collection: what is really retained. */
function heapAfterGc(): number {
  forceGc();
  forceGc();
  return process.memoryUsage().heapUsed;
}

function report(
  options: Options,
  elapsedMs: number,
  rssStartBytes: number,
  rssEndBytes: number,
  heap: { startBytes: number; endBytes: number },
): void {
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const growth = (rssEndBytes - rssStartBytes) / rssStartBytes;
  const heapGrowth = (heap.endBytes - heap.startBytes) / heap.startBytes;
  // RSS is judged only where it measures Voltbill alone (see main); the heap after GC everywhere.
  if (options.database === 'postgres' && growth > MAX_RSS_GROWTH) {
    violation(`RSS grew by ${(growth * 100).toFixed(0)} % (more than 50 %)`);
  }
  if (heapGrowth > MAX_HEAP_GROWTH) {
    violation(`the heap after GC grew by ${(heapGrowth * 100).toFixed(0)} % (more than 50 %)`);
  }
  const sorted = (map: Map<string | number, number>) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).map(([key, count]) => `    ${String(key).padEnd(34)} ${count}`);
  const lines = [
    `OCPP protocol fuzz: seed ${options.seed}, ${options.stations} stations (${options.protocols.join(' + ')})${options.skip.size > 0 ? `, skipped: ${[...options.skip].join(',')}` : ''}`,
    `  frames sent        ${stats.sent} in ${(elapsedMs / 1000).toFixed(1)} s (${Math.round(stats.sent / (elapsedMs / 1000))} frames/s)`,
    '  frames by kind:',
    ...sorted(stats.byKind),
    '  replies by code:',
    ...sorted(stats.replies),
    `  connections        ${stats.connects} (failed attempts ${stats.connectFailures})`,
    `  closes by server   (close code; ${stats.badMessageCloses} expected 1008 after more than ${stats.maxBadMessages} bad messages in a row)`,
    ...sorted(stats.disconnects),
    `  /health checks     ${stats.healthChecks}`,
    `  database           ${options.database === 'postgres' ? 'PostgreSQL (another process)' : 'PGlite in memory (in this process: RSS includes the message log)'}`,
    `  RSS                start ${mib(rssStartBytes)} MiB, end ${mib(rssEndBytes)} MiB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)} %)`,
    `  heap after GC      start ${mib(heap.startBytes)} MiB, end ${mib(heap.endBytes)} MiB (${heapGrowth >= 0 ? '+' : ''}${(heapGrowth * 100).toFixed(0)} %)`,
    `  violations         ${stats.violations.length}`,
    ...stats.violations
      .slice(0, 20)
      .map((problem) => `    ${problem.split('\n').slice(0, 3).join(' | ').slice(0, 300)}`),
  ];
  console.log(lines.join('\n'));
  process.exitCode = stats.violations.length > 0 ? 1 : 0;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
