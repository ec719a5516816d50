/** The hash-chained audit log: appends under concurrency, and verify catching edits, deletions and head rewrites. */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/audit/append-audit.ts';
import { verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('audit chain', () => {
  let handle: DatabaseHandle;
  let operatorA: string;
  let operatorB: string;

  beforeAll(async () => {
    handle = await openTestDatabase();
    const insert = (name: string, party: string) =>
      handle.db
        .insertInto('operators')
        .values({ name, country_code: 'DE', party_id: party, currency: 'EUR' })
        .returning('id')
        .executeTakeFirstOrThrow();
    operatorA = (await insert('A', 'AAA')).id;
    operatorB = (await insert('B', 'BBB')).id;
  });
  afterAll(async () => {
    await handle?.close();
  });

  const entry = (operatorId: string, i: number) => ({
    operatorId,
    actor: 'user:test',
    action: 'tariff.update',
    subjectType: 'tariff',
    subjectId: `T${i}`,
    before: { priceMinor: BigInt(i), nested: { z: 1, a: [1, 'x', null] } },
    after: { priceMinor: BigInt(i + 1), at: new Date('2026-11-26T00:00:00.000Z') },
    ip: '127.0.0.1',
    requestId: `req-${i}`,
    at: new Date(Date.UTC(2026, 10, 26, 1, 0, i)),
  });

  it('keeps one gapless chain per operator under 40 concurrent appends', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => appendAudit(handle.db, entry(i % 2 === 0 ? operatorA : operatorB, i))),
    );
    const report = await verifyAuditChain(handle.db);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(40);
    expect(report.operators).toBe(2);
    expect(report.heads.map((h) => h.seq).sort()).toEqual(['20', '20']);
  });

  it('appends inside a caller transaction and rolls back with it', async () => {
    await handle.db
      .transaction()
      .execute(async (trx) => {
        await appendAudit(trx, entry(operatorA, 100));
        throw new Error('abort');
      })
      .catch(() => {});
    const count = await handle.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(40);
  });

  it('refuses UPDATE and DELETE at the database level', async () => {
    await expect(sql`update audit_log set actor = 'x' where seq = 1`.execute(handle.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log where seq = 1`.execute(handle.db)).rejects.toThrow(/append-only/);
  });

  it('detects an edited entry, a deleted entry and a truncated tail', async () => {
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(handle.db);
    try {
      await sql`update audit_log set after = '{"priceMinor":"999"}'::jsonb where operator_id = ${operatorA} and seq = 3`.execute(
        handle.db,
      );
      await sql`delete from audit_log where operator_id = ${operatorB} and seq = 5`.execute(handle.db);
      await sql`delete from audit_log where operator_id = ${operatorA} and seq = 20`.execute(handle.db);
    } finally {
      await sql`alter table audit_log enable trigger audit_log_append_only`.execute(handle.db);
    }
    const report = await verifyAuditChain(handle.db);
    expect(report.ok).toBe(false);
    const found = report.problems.map((p) => `${p.operatorId === operatorA ? 'A' : 'B'}:${p.seq}:${p.kind}`);
    expect(found.sort()).toEqual(['A:20:head-mismatch', 'A:3:hash-mismatch', 'B:6:broken-link', 'B:6:sequence-gap']);
  });
});
