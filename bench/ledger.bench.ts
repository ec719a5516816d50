/**
 * Ledger throughput, durably on PostgreSQL (fsync and synchronous_commit on): balanced three-legged transfers
 * (receivable / revenue / VAT) per second
 *   (a) one transfer per transaction (each commit waits for the WAL flush), from 32 concurrent clients,
 *   (b) batches of 100 transfers per transaction (postTransfers: three statements per batch), 8 clients,
 *   (c) for comparison, the design the ledger avoids: one transfer per transaction that also updates a single
 *       revenue balance row (every transfer of the operator queues on that row lock).
 * Run: npx tsx bench/ledger.bench.ts [transfers]   (default 50,000 batched; 5,000 for (a), 1,000 for (c); needs
 * initdb/pg_ctl)
 * Not part of the test run. The target is >= 5,000 transfers/s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { accounts } from '../src/ledger/accounts.ts';
import { trialBalance } from '../src/ledger/balances.ts';
import { postTransfer, postTransfers } from '../src/ledger/post-transfer.ts';
import type { TransferInput } from '../src/ledger/transfer.ts';
import { startPostgres } from '../test/support/postgres-server.ts';

const TOTAL = Number(process.argv[2] ?? 50_000);
/** One commit per transfer is bounded by WAL flushes: fewer transfers suffice to measure it. */
const SINGLE = Math.min(TOTAL, 5_000);
const HOT = Math.min(TOTAL, 1_000);

/**
 * CPU seconds used so far by this process and by the PostgreSQL server (postmaster and its backends, from /proc).
 * On a shared, loaded machine wall-clock rates understate capacity; CPU per transfer does not depend on the load.
 */
function cpuSeconds(dataDir: string): number {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1e6;
  const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      if (pid !== postmaster && ppid !== postmaster) continue;
      total += (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

const server = await startPostgres({ durable: true, maxConnections: 100 });
const handle = await openDatabase({ kind: 'postgres', url: server.url, maxConnections: 40 });
try {
  await migrateToLatest(handle.db);
  const { id: operatorId } = await handle.db
    .insertInto('operators')
    .values({ name: 'Bench CPO', country_code: 'DE', party_id: 'BEN', currency: 'EUR' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const transfer = (key: string, i: number): TransferInput => {
    const excl = BigInt(500 + (i % 5000));
    const vat = (excl * 19n) / 100n;
    return {
      operatorId,
      currency: 'EUR',
      idempotencyKey: key,
      cause: { type: 'benchmark', id: key },
      postings: [
        { account: accounts.customerReceivables(), amountMinor: excl + vat },
        { account: accounts.chargingRevenue(), amountMinor: -excl },
        { account: accounts.vatPayable('DEU', '19'), amountMinor: -vat },
      ],
    };
  };

  const run = async (
    name: string,
    count: number,
    clients: number,
    work: (client: number, next: () => number | undefined) => Promise<void>,
  ) => {
    let issued = 0;
    const next = () => (issued < count ? issued++ : undefined);
    const cpuBefore = cpuSeconds(server.dataDir);
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, (_, c) => work(c, next)));
    const seconds = (performance.now() - started) / 1000;
    const cpuUs = ((cpuSeconds(server.dataDir) - cpuBefore) / count) * 1e6;
    const rate = count / seconds;
    console.log(
      `${name.padEnd(58)} ${count} transfers in ${seconds.toFixed(2)} s = ${Math.round(rate).toLocaleString('en')} /s; ` +
        `CPU ${Math.round(cpuUs)} us/transfer (node + postgres) = ${Math.round(1e6 / cpuUs).toLocaleString('en')} /s per free core`,
    );
    return rate;
  };

  await postTransfer(handle.db, transfer('warmup', 0)); // creates the accounts

  const single = await run('(a) 1 transfer per commit, 32 clients', SINGLE, 32, async (_c, next) => {
    for (let i = next(); i !== undefined; i = next()) {
      const result = await postTransfer(handle.db, transfer(`a-${i}`, i));
      if (!result.ok) throw new Error(result.error.message);
    }
  });

  const BATCH = 100;
  const batched = await run(`(b) ${BATCH} transfers per commit, 8 clients`, TOTAL, 8, async (_c, next) => {
    for (;;) {
      const batch: TransferInput[] = [];
      for (let i = next(); i !== undefined; i = batch.length < BATCH ? next() : undefined)
        batch.push(transfer(`b-${i}`, i));
      if (batch.length === 0) return;
      await handle.db.transaction().execute(async (trx) => {
        const results = await postTransfers(trx, batch);
        if (results.some((r) => !r.ok)) throw new Error('batch refused');
      });
    }
  });

  await sql`create table bench_hot_balance (operator_id uuid primary key, balance_minor bigint not null)`.execute(
    handle.db,
  );
  await sql`insert into bench_hot_balance values (${operatorId}, 0)`.execute(handle.db);
  const hot = await run('(c) 1 per commit + one hot balance row update, 32 clients', HOT, 32, async (_c, next) => {
    for (let i = next(); i !== undefined; i = next()) {
      const t = transfer(`c-${i}`, i);
      await handle.db.transaction().execute(async (trx) => {
        await sql`update bench_hot_balance set balance_minor = balance_minor + ${t.postings[1]!.amountMinor.toString()}::int8
                  where operator_id = ${operatorId}`.execute(trx);
        const result = await postTransfer(trx, t);
        if (!result.ok) throw new Error(result.error.message);
      });
    }
  });

  const trial = await trialBalance(handle.db, operatorId);
  console.log(
    `trial balance after ${SINGLE + TOTAL + HOT + 1} transfers: ${trial.map((t) => `${t.currency} ${t.postedMinor}`).join(', ')} (must be 0)`,
  );
  console.log(`ratios: (b)/(a) = ${(batched / single).toFixed(1)}x, (a)/(c) = ${(single / hot).toFixed(1)}x`);
} finally {
  await handle.close();
  server.stop();
}
