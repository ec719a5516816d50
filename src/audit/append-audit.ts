/**
 * Appends one entry to an operator's hash-chained audit log. Call it inside the transaction that makes the change
 * (pass the Transaction), so that the change and its record commit or roll back together; given the Kysely
 * instance it opens its own transaction.
 *
 * Concurrency: the operator's chain head row is locked FOR UPDATE, so appends of one operator are serialized and
 * each links to the true previous entry; other operators' appends do not wait.
 */
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import { canonicalJson, normalizeJson } from './canonical-json.ts';
import { type ChainedEntry, chainHash, GENESIS_HASH } from './chain-hash.ts';

export type AuditEntryInput = {
  operatorId: string;
  /** Who: `user:<id>`, `api-key:<id>`, `driver:<customerId>`, `cli`, `system`, `station:<id>`. */
  actor: string;
  /** What, as noun.verb: `tariff.create`, `api-key.revoke`, `user.sign-in`. */
  action: string;
  subjectType: string;
  subjectId: string;
  before?: unknown;
  after?: unknown;
  /** From where: the client's address as Fastify saw it. */
  ip?: string | null;
  requestId?: string | null;
  at: Date;
};

export async function appendAudit(db: Kysely<Database> | Transaction<Database>, entry: AuditEntryInput): Promise<void> {
  if (db.isTransaction) {
    await appendInTransaction(db as Transaction<Database>, entry);
    return;
  }
  await db.transaction().execute((trx) => appendInTransaction(trx, entry));
}

async function appendInTransaction(trx: Transaction<Database>, input: AuditEntryInput): Promise<void> {
  await trx
    .insertInto('audit_chain_heads')
    .values({ operator_id: input.operatorId, seq: 0n, hash: GENESIS_HASH })
    .onConflict((oc) => oc.column('operator_id').doNothing())
    .execute();
  const head = await trx
    .selectFrom('audit_chain_heads')
    .select(['seq', 'hash'])
    .where('operator_id', '=', input.operatorId)
    .forUpdate()
    .executeTakeFirstOrThrow();

  const entry: ChainedEntry = {
    operatorId: input.operatorId,
    seq: BigInt(head.seq) + 1n,
    at: input.at.toISOString(),
    actor: input.actor,
    action: input.action,
    subjectType: input.subjectType,
    subjectId: input.subjectId,
    before: normalizeJson(input.before),
    after: normalizeJson(input.after),
    ip: input.ip ?? null,
    requestId: input.requestId ?? null,
  };
  const hash = chainHash(head.hash, entry);

  await trx
    .insertInto('audit_log')
    .values({
      operator_id: entry.operatorId,
      seq: entry.seq,
      at: input.at,
      actor: entry.actor,
      action: entry.action,
      subject_type: entry.subjectType,
      subject_id: entry.subjectId,
      before: jsonOrNull(entry.before),
      after: jsonOrNull(entry.after),
      ip: entry.ip,
      request_id: entry.requestId,
      prev_hash: head.hash,
      hash,
    })
    .execute();
  await trx
    .updateTable('audit_chain_heads')
    .set({ seq: entry.seq, hash })
    .where('operator_id', '=', input.operatorId)
    .execute();
}

function jsonOrNull(value: unknown) {
  return value === null ? null : sql<unknown>`${canonicalJson(value)}::jsonb`;
}
