/**
 * Re-computes every operator's audit chain and reports each place where it does not hold: an edited entry (its
 * hash no longer matches its content), a broken link (prev_hash is not the previous entry's hash), a gap in the
 * sequence (a deleted entry) and a chain head that disagrees with the last entry (entries deleted from the end,
 * or the head itself rewritten). Reads in pages, so memory stays flat on a long log.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { chainHash, GENESIS_HASH } from './chain-hash.ts';

export type AuditChainProblemKind = 'hash-mismatch' | 'broken-link' | 'sequence-gap' | 'head-mismatch';

export type AuditChainProblem = {
  operatorId: string;
  /** The entry where the chain breaks (for head-mismatch: the head's seq). */
  seq: string;
  kind: AuditChainProblemKind;
  detail: string;
};

export type AuditChainReport = {
  ok: boolean;
  operators: number;
  entries: number;
  /** Per operator, the last entry's seq and hash: anchor them elsewhere to detect a whole-chain rewrite. */
  heads: { operatorId: string; seq: string; hash: string }[];
  problems: AuditChainProblem[];
};

const PAGE_SIZE = 1000;

export async function verifyAuditChain(
  db: Kysely<Database>,
  options: { operatorId?: string } = {},
): Promise<AuditChainReport> {
  let operatorQuery = db.selectFrom('audit_chain_heads').select(['operator_id', 'seq', 'hash']);
  if (options.operatorId) operatorQuery = operatorQuery.where('operator_id', '=', options.operatorId);
  const heads = await operatorQuery.orderBy('operator_id').execute();
  // Entries of an operator without a head row are also checked (the head row may have been deleted).
  let orphanQuery = db
    .selectFrom('audit_log')
    .select('operator_id')
    .distinct()
    .where('operator_id', 'not in', db.selectFrom('audit_chain_heads').select('operator_id'));
  if (options.operatorId) orphanQuery = orphanQuery.where('operator_id', '=', options.operatorId);
  const orphans = await orphanQuery.execute();

  const report: AuditChainReport = { ok: true, operators: 0, entries: 0, heads: [], problems: [] };
  const all = [
    ...heads.map((h) => ({ operatorId: h.operator_id, head: { seq: BigInt(h.seq), hash: h.hash } })),
    ...orphans.map((o) => ({ operatorId: o.operator_id, head: null })),
  ];
  for (const { operatorId, head } of all) {
    report.operators += 1;
    const last = await verifyOperator(db, operatorId, report);
    report.heads.push({ operatorId, seq: last.seq.toString(), hash: last.hash });
    if (!head) {
      report.problems.push({
        operatorId,
        seq: last.seq.toString(),
        kind: 'head-mismatch',
        detail: 'the chain head row is missing',
      });
    } else if (head.seq !== last.seq || head.hash !== last.hash) {
      report.problems.push({
        operatorId,
        seq: head.seq.toString(),
        kind: 'head-mismatch',
        detail: `head says seq ${head.seq} but the last entry is seq ${last.seq}: entries deleted or head rewritten`,
      });
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

async function verifyOperator(
  db: Kysely<Database>,
  operatorId: string,
  report: AuditChainReport,
): Promise<{ seq: bigint; hash: string }> {
  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  let lastSeq = 0n;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('operator_id', '=', operatorId)
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(PAGE_SIZE)
      .execute();
    for (const row of rows) {
      const seq = BigInt(row.seq);
      report.entries += 1;
      if (seq !== expectedSeq) {
        report.problems.push({
          operatorId,
          seq: seq.toString(),
          kind: 'sequence-gap',
          detail: `entries ${expectedSeq}..${seq - 1n} are missing`,
        });
      }
      if (row.prev_hash !== prevHash) {
        report.problems.push({
          operatorId,
          seq: seq.toString(),
          kind: 'broken-link',
          detail: 'prev_hash is not the hash of the previous entry',
        });
      }
      const computed = chainHash(row.prev_hash, {
        operatorId: row.operator_id,
        seq,
        at: new Date(row.at).toISOString(),
        actor: row.actor,
        action: row.action,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        before: row.before ?? null,
        after: row.after ?? null,
        ip: row.ip,
        requestId: row.request_id,
      });
      if (computed !== row.hash) {
        report.problems.push({
          operatorId,
          seq: seq.toString(),
          kind: 'hash-mismatch',
          detail: 'the entry was changed after it was written',
        });
      }
      prevHash = row.hash;
      lastSeq = seq;
      expectedSeq = seq + 1n;
    }
    if (rows.length < PAGE_SIZE) break;
  }
  return { seq: lastSeq, hash: lastSeq === 0n ? GENESIS_HASH : prevHash };
}
