/**
 * Audit log throughput on embedded PGlite: sequential and concurrent appends (one operator: serialized on the chain
 * head; four operators: independent chains), verification speed, and the cost of one scrypt password hash.
 * Run: npx tsx bench/audit-append.bench.ts [entries]
 */
import { hashPassword } from '../src/accounts/password-hash.ts';
import { appendAudit } from '../src/audit/append-audit.ts';
import { verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';

const entries = Number(process.argv[2] ?? 500);
const handle = await openDatabase({ kind: 'pglite', dataDir: 'memory', command: 'bench' });
await migrateToLatest(handle.db);
const operators: string[] = [];
for (const party of ['BA1', 'BA2', 'BA3', 'BA4']) {
  const row = await handle.db
    .insertInto('operators')
    .values({ name: party, country_code: 'DE', party_id: party, currency: 'EUR' })
    .returning('id')
    .executeTakeFirstOrThrow();
  operators.push(row.id);
}
const entry = (operatorId: string, i: number) => ({
  operatorId,
  actor: 'bench',
  action: 'tariff.update',
  subjectType: 'tariff',
  subjectId: `T${i}`,
  before: { priceMinor: i },
  after: { priceMinor: i + 1 },
  at: new Date(),
});

let started = performance.now();
for (let i = 0; i < entries; i++) await appendAudit(handle.db, entry(operators[0]!, i));
const sequentialMs = performance.now() - started;
started = performance.now();
await Promise.all(Array.from({ length: entries }, (_, i) => appendAudit(handle.db, entry(operators[i % 4]!, i))));
const concurrentMs = performance.now() - started;
started = performance.now();
const report = await verifyAuditChain(handle.db);
const verifyMs = performance.now() - started;
started = performance.now();
await hashPassword('correct horse battery staple');
const scryptMs = performance.now() - started;
await handle.close();

console.log(`audit append, sequential, 1 operator:   ${(entries / (sequentialMs / 1000)).toFixed(0)} entries/s`);
console.log(`audit append, concurrent, 4 operators:  ${(entries / (concurrentMs / 1000)).toFixed(0)} entries/s`);
console.log(
  `audit verify: ${report.entries} entries in ${verifyMs.toFixed(0)} ms (${report.ok ? 'intact' : 'BROKEN'})`,
);
console.log(`scrypt password hash (N=2^15, r=8): ${scryptMs.toFixed(0)} ms`);
