/**
 * Writes balanced transfers: the only code that inserts into ledger_transfers and ledger_postings. A batch of
 * transfers is one statement whatever its size (accounts, transfers and postings together), which is what lets one
 * commit carry thousands of transfers durably. Call it inside the transaction of the business change
 * it books (a stop, an invoice, a capture) so that both commit or neither does.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { accountId } from './accounts.ts';
import type { LedgerError } from './ledger-error.ts';
import { assertValidTransfer, type TransferInput, type TransferRecord, transferContentHash } from './transfer.ts';

export type PostedTransfer = {
  readonly transferId: string;
  /** True when the idempotency key had been posted before (with the same content): nothing was written. */
  readonly duplicate: boolean;
};

/** Posts one ordinary (final) transfer. Same key and same content again: `duplicate`, nothing written. */
export async function postTransfer(
  db: Kysely<Database>,
  transfer: TransferInput,
): Promise<Result<PostedTransfer, LedgerError>> {
  const [result] = await writeTransfers(db, [{ ...transfer, kind: 'posted' }]);
  assert(result, 'one result per transfer');
  return result;
}

/** Posts many ordinary transfers in one statement; results in input order. */
export async function postTransfers(
  db: Kysely<Database>,
  transfers: readonly TransferInput[],
): Promise<Result<PostedTransfer, LedgerError>[]> {
  return writeTransfers(
    db,
    transfers.map((t) => ({ ...t, kind: 'posted' as const })),
  );
}

/**
 * Writes transfer records of any kind (holds and reversals come through here from holds.ts and reverse.ts).
 * Validates every record first: nothing is written when one of them is malformed.
 */
export async function writeTransfers(
  db: Kysely<Database>,
  records: readonly TransferRecord[],
): Promise<Result<PostedTransfer, LedgerError>[]> {
  if (records.length === 0) return [];
  const keys = new Set<string>();
  for (const record of records) {
    assertValidTransfer(record);
    const scoped = `${record.operatorId}|${record.idempotencyKey}`;
    assert(!keys.has(scoped), `idempotency key ${record.idempotencyKey} appears twice in one batch`);
    keys.add(scoped);
  }

  const accountRows = new Map<string, { id: string; operator: string; code: string; currency: string; kind: string }>();
  const ids: string[] = [];
  const hashes: string[] = [];
  const t = {
    id: [] as string[],
    operator: [] as string[],
    currency: [] as string[],
    kind: [] as string[],
    key: [] as string[],
    hash: [] as string[],
    causeType: [] as string[],
    causeId: [] as string[],
    invoice: [] as (string | null)[],
    pending: [] as (string | null)[],
    reverses: [] as (string | null)[],
    description: [] as string[],
    at: [] as (string | null)[],
  };
  const p = {
    transfer: [] as string[],
    account: [] as string[],
    currency: [] as string[],
    amount: [] as string[],
    pending: [] as boolean[],
  };
  for (const record of records) {
    const id = randomUUID();
    const hash = transferContentHash(record);
    ids.push(id);
    hashes.push(hash);
    t.id.push(id);
    t.operator.push(record.operatorId);
    t.currency.push(record.currency);
    t.kind.push(record.kind);
    t.key.push(record.idempotencyKey);
    t.hash.push(hash);
    t.causeType.push(record.cause.type);
    t.causeId.push(record.cause.id);
    t.invoice.push(record.invoiceId ?? null);
    t.pending.push(record.pendingId ?? null);
    t.reverses.push(record.reversesId ?? null);
    t.description.push(record.description ?? '');
    t.at.push(record.at ? record.at.toISOString() : null);
    for (const posting of record.postings) {
      const account = accountId(record.operatorId, posting.account.code, record.currency);
      accountRows.set(account, {
        id: account,
        operator: record.operatorId,
        code: posting.account.code,
        currency: record.currency,
        kind: posting.account.kind,
      });
      p.transfer.push(id);
      p.account.push(account);
      p.currency.push(record.currency);
      p.amount.push(posting.amountMinor.toString());
      p.pending.push(record.kind === 'pending');
    }
  }

  // Accounts (created on first use), transfers and postings in one statement, so that a transfer outside an
  // explicit transaction is one round trip and one commit. A transfer whose key exists already inserts no
  // postings. Foreign keys are checked at the end of the statement, when the rows of every part are in place.
  const a = [...accountRows.values()];
  const inserted = await sql<{ id: string }>`
    with a as (
      insert into ledger_accounts (id, operator_id, code, currency, kind)
      select * from unnest(${a.map((r) => r.id)}::uuid[], ${a.map((r) => r.operator)}::uuid[],
                           ${a.map((r) => r.code)}::text[], ${a.map((r) => r.currency)}::text[],
                           ${a.map((r) => r.kind)}::text[])
      on conflict do nothing
    ), t as (
      insert into ledger_transfers (id, operator_id, currency, kind, idempotency_key, content_hash, cause_type,
                                    cause_id, invoice_id, pending_id, reverses_id, description, created_at)
      select v.id, v.operator_id, v.currency, v.kind, v.idempotency_key, v.content_hash, v.cause_type, v.cause_id,
             v.invoice_id, v.pending_id, v.reverses_id, v.description, coalesce(v.created_at, now())
      from unnest(${t.id}::uuid[], ${t.operator}::uuid[], ${t.currency}::text[], ${t.kind}::text[], ${t.key}::text[],
                  ${t.hash}::text[], ${t.causeType}::text[], ${t.causeId}::text[], ${t.invoice}::uuid[],
                  ${t.pending}::uuid[], ${t.reverses}::uuid[], ${t.description}::text[], ${t.at}::timestamptz[])
        as v(id, operator_id, currency, kind, idempotency_key, content_hash, cause_type, cause_id, invoice_id,
             pending_id, reverses_id, description, created_at)
      on conflict (operator_id, idempotency_key) do nothing
      returning id
    ), p as (
      insert into ledger_postings (transfer_id, account_id, currency, amount_minor, pending)
      select v.transfer_id, v.account_id, v.currency, v.amount_minor, v.pending
      from unnest(${p.transfer}::uuid[], ${p.account}::uuid[], ${p.currency}::text[], ${p.amount}::int8[],
                  ${p.pending}::boolean[]) as v(transfer_id, account_id, currency, amount_minor, pending)
      where v.transfer_id in (select id from t)
    )
    select id from t`.execute(db);

  const written = new Set(inserted.rows.map((r) => r.id));
  const results: Result<PostedTransfer, LedgerError>[] = records.map((_, i) =>
    ok({ transferId: ids[i]!, duplicate: false }),
  );
  const duplicates = records.map((_, i) => i).filter((i) => !written.has(ids[i]!));
  if (duplicates.length === 0) return results;

  const existing = await db
    .selectFrom('ledger_transfers')
    .select(['id', 'operator_id', 'idempotency_key', 'content_hash'])
    .where(
      'idempotency_key',
      'in',
      duplicates.map((i) => records[i]!.idempotencyKey),
    )
    .execute();
  for (const i of duplicates) {
    const record = records[i]!;
    const row = existing.find(
      (r) => r.operator_id === record.operatorId && r.idempotency_key === record.idempotencyKey,
    );
    assert(row, `transfer ${record.idempotencyKey} was neither written nor found`);
    results[i] =
      row.content_hash === hashes[i]
        ? ok({ transferId: row.id, duplicate: true })
        : err({
            code: 'IdempotencyKeyReused',
            message: `idempotency key ${record.idempotencyKey} was used before for a different transfer (${row.id})`,
            transferId: row.id,
          });
  }
  return results;
}
