/**
 * SQL statements per complete charging session, split by OCPP message: one station runs back-to-back sessions
 * (as the e2e benchmark's stations do: status, Authorize, start, 2 meter values, stop, status) one message at a
 * time, and every statement the server sends to PostgreSQL is counted (pg's Client#query, so BEGIN and COMMIT
 * count too: each COMMIT of a durable server is an fsync). A message's statements are those sent from its request
 * until the server has been quiet for a moment after the reply, so the group-committed writes it queued (message
 * log, samples) count with it. Those are shown apart ("batched"): under load one batch carries many messages, so
 * the request-path figure is what a session costs at scale.
 *
 *   npx tsx bench/statements-per-session.ts [--sessions 20] [--protocol ocpp1.6|ocpp2.0.1] [--show StopTransaction]
 *
 * `--show <phase>` prints the statements of that phase for the last session (what to look at when cutting).
 * Not a *.bench.ts file, so `npm run bench` does not run it; it prints, never asserts.
 */
import { RPCClient } from 'ocpp-rpc';
import pg from 'pg';
import { describeMachine, fmt, numberFlag, startBenchServer } from '../src/load/bench-harness.ts';
import { loadIdTag, loadStationId } from '../src/load/load-options.ts';
import { v16, v201 } from '../src/load/ocpp-payloads.ts';
import { startPostgres } from '../test/support/postgres-server.ts';

const sessions = numberFlag('sessions', 20);
const protocolArg = process.argv.indexOf('--protocol');
const protocol = protocolArg > 0 && process.argv[protocolArg + 1] === 'ocpp2.0.1' ? 'ocpp2.0.1' : 'ocpp1.6';
const showArg = process.argv.indexOf('--show');
const show = showArg > 0 ? process.argv[showArg + 1] : undefined;
/** Quiet time after a reply that ends a message's window (the batch writers start at once, setImmediate). */
const QUIET_MS = 40;

type Counted = { text: string; at: number };
let log: Counted[] = [];
// Every statement of the server goes through pg.Client#query (Kysely's PostgresDialect, BEGIN/COMMIT included).
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
  log.push({ text, at: performance.now() });
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

/**
 * Statements group-committed in the background: shared by many messages under load. (A stop that carries samples
 * writes them with the same statement inside its transaction; the load stations' stops carry none.)
 */
function isBatched(text: string): boolean {
  return /insert into (ocpp_messages|meter_samples)/i.test(text);
}

async function quiet(): Promise<void> {
  for (;;) {
    const last = log.at(-1)?.at ?? 0;
    const wait = QUIET_MS - (performance.now() - last);
    if (wait <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

type Tally = { total: number; batched: number; commits: number; texts: string[] };
const phases = new Map<string, Tally[]>();

async function measure<T>(phase: string, session: number, run: () => Promise<T>): Promise<T> {
  await quiet();
  log = [];
  const result = await run();
  await quiet();
  const texts = log.map((c) => c.text);
  const tally: Tally = {
    total: texts.length,
    batched: texts.filter(isBatched).length,
    commits: texts.filter((t) => /^\s*commit\b/i.test(t)).length,
    texts,
  };
  const list = phases.get(phase) ?? [];
  list[session] = tally;
  phases.set(phase, list);
  return result;
}

console.log(`SQL statements per session (${protocol}, ${sessions} sessions, one station) — ${describeMachine()}`);
const postgres = await startPostgres({ durable: true, maxConnections: 100 });
try {
  const bench = await startBenchServer({ kind: 'postgres', url: postgres.url }, 1);
  try {
    const client = new RPCClient({
      endpoint: bench.server.ocppUrl,
      identity: loadStationId('LOAD-', 1),
      protocols: [protocol],
      strictMode: false,
      reconnect: false,
      callTimeoutMs: 10_000,
    } as ConstructorParameters<typeof RPCClient>[0]);
    await client.connect();
    // biome-ignore lint/suspicious/noExplicitAny: replies are read loosely, a bench not a test.
    const call = (action: string, payload: unknown) => client.call(action, payload) as Promise<any>;
    const idTag = loadIdTag('LT', 1);
    await call('BootNotification', protocol === 'ocpp1.6' ? v16.boot('S1') : v201.boot('S1'));
    // Virtual time in the past, so that the readings are plausible (11 kW, a reading every 10 minutes): the sessions
    // are billed, not held for review, as in the e2e benchmark.
    let atMs = Date.now() - (sessions + 1) * 3_600_000;
    const tick = (minutes: number) => {
      atMs += minutes * 60_000;
      return new Date(atMs);
    };
    let registerWh = 1000;
    const STEP_WH = 1833;
    const charge = () => {
      registerWh += STEP_WH;
      return registerWh;
    };
    const reading = () => ({ at: tick(10), registerWh: charge(), powerW: 11_000 });
    for (let s = 0; s < sessions; s++) {
      if (protocol === 'ocpp1.6') {
        await measure('StatusNotification', s, () => call('StatusNotification', v16.status(1, 'Preparing', tick(20))));
        await measure('Authorize', s, () => call('Authorize', v16.authorize(idTag)));
        const started = await measure('StartTransaction', s, () =>
          call('StartTransaction', v16.start(idTag, registerWh, tick(1))),
        );
        const tx = Number(started.transactionId);
        await measure('StatusNotification', s + sessions, () =>
          call('StatusNotification', v16.status(1, 'Charging', new Date(atMs))),
        );
        await measure('MeterValues', s, () => call('MeterValues', v16.meterValues(tx, reading())));
        await measure('MeterValues', s + sessions, () => call('MeterValues', v16.meterValues(tx, reading())));
        await measure('StopTransaction', s, () =>
          call('StopTransaction', v16.stop(tx, idTag, charge(), tick(10), 'Local')),
        );
        await measure('StatusNotification', s + 2 * sessions, () =>
          call('StatusNotification', v16.status(1, 'Available', tick(1))),
        );
      } else {
        const transactionId = `stmt-${Date.now()}-${s}`;
        let seqNo = 0;
        const event = (
          eventType: 'Started' | 'Updated' | 'Ended',
          context: 'Transaction.Begin' | 'Sample.Periodic' | 'Transaction.End',
        ) =>
          v201.transactionEvent({
            eventType,
            triggerReason:
              eventType === 'Started' ? 'Authorized' : eventType === 'Ended' ? 'StopAuthorized' : 'MeterValuePeriodic',
            seqNo: seqNo++,
            transactionId,
            idToken: idTag,
            reading: reading(),
            context,
            ...(eventType === 'Ended' && { stoppedReason: 'Local' as const }),
          });
        await measure('StatusNotification', s, () => call('StatusNotification', v201.status(1, 'Occupied', tick(20))));
        await measure('Authorize', s, () => call('Authorize', v201.authorize(idTag)));
        await measure('TransactionEvent Started', s, () =>
          call('TransactionEvent', event('Started', 'Transaction.Begin')),
        );
        await measure('TransactionEvent Updated', s, () =>
          call('TransactionEvent', event('Updated', 'Sample.Periodic')),
        );
        await measure('TransactionEvent Updated', s + sessions, () =>
          call('TransactionEvent', event('Updated', 'Sample.Periodic')),
        );
        await measure('TransactionEvent Ended', s, () => call('TransactionEvent', event('Ended', 'Transaction.End')));
        await measure('StatusNotification', s + sessions, () =>
          call('StatusNotification', v201.status(1, 'Available', tick(1))),
        );
      }
    }
    await client.close();
    const cdrs = await bench.server.database.db
      .selectFrom('cdrs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    console.log(`${cdrs.n} CDRs written`);

    // The first session warms caches (and the first start of a card differs): it is left out. Per phase, the
    // median over the sessions, so that a background job's statement (payment worker, cluster heartbeat) that
    // happened to fall into one message's window does not count.
    const from = sessions > 1 ? 1 : 0;
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    let total = 0;
    let batched = 0;
    let commits = 0;
    console.log('phase                         per session (median): statements (request path + batched), commits');
    for (const [phase, tallies] of phases) {
      const perSession = (pick: (t: Tally) => number) => {
        const sums: number[] = [];
        for (let s = from; s < sessions; s++) {
          let sum = 0;
          for (let i = s; i < tallies.length; i += sessions) if (tallies[i]) sum += pick(tallies[i]!);
          sums.push(sum);
        }
        return median(sums);
      };
      const messages = tallies.filter((t, i) => t !== undefined && i % sessions === from).length;
      const all = perSession((t) => t.total);
      const bg = perSession((t) => t.batched);
      const c = perSession((t) => t.commits);
      total += all;
      batched += bg;
      commits += c;
      console.log(
        `${phase.padEnd(30)}${fmt(all - bg).padStart(6)} + ${fmt(bg).padStart(4)}   commits ${fmt(c)}` +
          `   (${messages} message${messages === 1 ? '' : 's'})`,
      );
    }
    console.log(
      `${'whole session'.padEnd(30)}${fmt(total - batched).padStart(6)} + ${fmt(batched).padStart(4)}   commits ${fmt(commits)}`,
    );
    if (show) {
      const tallies = phases.get(show);
      const last = tallies?.[sessions - 1];
      console.log(`\nstatements of ${show} (last session):`);
      for (const text of last?.texts ?? []) console.log(`  ${text.replace(/\s+/g, ' ').slice(0, 160)}`);
    }
  } finally {
    await bench.close();
  }
} finally {
  postgres.stop();
}
