/**
 * Cost of the shared rate-limit counters: one upsert into rate_limit_windows per counted request, on a durable
 * PostgreSQL (started from the machine's binaries) and on embedded PGlite, next to the in-memory counter.
 * Sequential latency, and throughput with 32 requests in flight over 1,000 clients and over one hot client (all
 * on one row, the worst case: the row lock serializes them).
 * Run: npx tsx bench/rate-limit.bench.ts [hits]
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createDatabaseRateCounter, createMemoryRateCounter, type RateCounter } from '../src/api/auth/rate-counter.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../src/db/open-database.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.ts';

const hits = Number(process.argv[2] ?? 4000);
const key = randomBytes(32);
const bucketOf = (k: string) => createHmac('sha256', key).update(k).digest('hex');

async function measure(name: string, counter: RateCounter): Promise<void> {
  const now = () => new Date();
  let started = performance.now();
  for (let i = 0; i < hits; i++) await counter.hit(`ip:10.0.${i % 250}.${i % 4}`, 60_000, now());
  const sequentialMs = performance.now() - started;
  const inFlight = async (keyOf: (i: number) => string) => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < hits) {
          const i = next++;
          await counter.hit(keyOf(i), 60_000, now());
        }
      }),
    );
    return performance.now() - t0;
  };
  const spreadMs = await inFlight((i) => `key:${i % 1000}`);
  const hotMs = await inFlight(() => 'key:hot');
  started = performance.now();
  const perSecond = (ms: number) => Math.round((hits / ms) * 1000).toLocaleString('en');
  console.log(
    `${name.padEnd(22)} sequential ${((sequentialMs / hits) * 1000).toFixed(0).padStart(6)} µs/hit` +
      `  |  32 in flight: ${perSecond(spreadMs).padStart(8)} hits/s over 1,000 clients, ${perSecond(hotMs).padStart(8)} hits/s on one client`,
  );
}

console.log(`rate-limit counters, ${hits} hits per run`);
await measure('memory', createMemoryRateCounter());

const pglite = await openDatabase({ kind: 'pglite', dataDir: 'memory', command: 'bench' });
await migrateToLatest(pglite.db);
await measure('PGlite (embedded)', createDatabaseRateCounter(pglite.db, { bucketOf }));
await pglite.close();

let server: PostgresServer | undefined;
let handle: DatabaseHandle | undefined;
try {
  server = await startPostgres({ durable: true });
  handle = await openDatabase({ kind: 'postgres', url: server.url, maxConnections: 32 });
  await migrateToLatest(handle.db);
  await measure('PostgreSQL (durable)', createDatabaseRateCounter(handle.db, { bucketOf }));
  const rows = await handle.db.selectFrom('rate_limit_windows').select('bucket').execute();
  console.log(`rows in rate_limit_windows after the runs: ${rows.length} (pruned at most once a minute)`);
} catch (error) {
  console.log(`PostgreSQL skipped: ${(error as Error).message}`);
} finally {
  await handle?.close();
  server?.stop();
}
