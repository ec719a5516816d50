/**
 * Balances are computed from postings (sums per account over a covering index), never kept in a row that every
 * transfer would update. Posted amounts count from posted, post_pending and reversal transfers; pending amounts
 * are the postings of holds not yet posted or voided.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, LedgerAccountKind } from '../db/schema.ts';

export type AccountBalance = {
  readonly accountId: string;
  readonly code: string;
  readonly currency: string;
  readonly kind: LedgerAccountKind;
  /** Signed: debit positive, credit negative. */
  readonly postedMinor: bigint;
  readonly pendingMinor: bigint;
};

/** Every account of an operator with its balances (optionally of one currency or codes starting with a prefix). */
export async function accountBalances(
  db: Kysely<Database>,
  operatorId: string,
  filter: { currency?: string; codePrefix?: string } = {},
): Promise<AccountBalance[]> {
  const rows = await sql<{
    id: string;
    code: string;
    currency: string;
    kind: LedgerAccountKind;
    posted: string | bigint;
    pending: string | bigint;
  }>`
    select a.id, a.code, a.currency, a.kind,
      (select coalesce(sum(p.amount_minor), 0) from ledger_postings p
        where p.account_id = a.id and not p.pending)::int8 as posted,
      (select coalesce(sum(p.amount_minor), 0) from ledger_postings p
        where p.account_id = a.id and p.pending
          and not exists (select 1 from ledger_transfers r where r.pending_id = p.transfer_id))::int8 as pending
    from ledger_accounts a
    where a.operator_id = ${operatorId}
      and (${filter.currency ?? null}::text is null or a.currency = ${filter.currency ?? null})
      and (${filter.codePrefix ?? null}::text is null or starts_with(a.code, ${filter.codePrefix ?? null}))
    order by a.currency, a.code`.execute(db);
  return rows.rows.map((row) => ({
    accountId: row.id,
    code: row.code,
    currency: row.currency,
    kind: row.kind,
    postedMinor: BigInt(row.posted),
    pendingMinor: BigInt(row.pending),
  }));
}

/** The balance of one account (0 when it has never been used). */
export async function accountBalance(
  db: Kysely<Database>,
  operatorId: string,
  code: string,
  currency: string,
): Promise<{ postedMinor: bigint; pendingMinor: bigint }> {
  const [found] = (await accountBalances(db, operatorId, { currency, codePrefix: code })).filter(
    (b) => b.code === code,
  );
  return { postedMinor: found?.postedMinor ?? 0n, pendingMinor: found?.pendingMinor ?? 0n };
}

/** Sum of all postings per operator and currency: zero in a healthy ledger (the trial balance). */
export async function trialBalance(
  db: Kysely<Database>,
  operatorId?: string,
): Promise<{ operatorId: string; currency: string; postedMinor: bigint; pendingMinor: bigint }[]> {
  const rows = await sql<{ operator_id: string; currency: string; posted: string | bigint; pending: string | bigint }>`
    select t.operator_id, p.currency,
      coalesce(sum(p.amount_minor) filter (where not p.pending), 0)::int8 as posted,
      coalesce(sum(p.amount_minor) filter (where p.pending), 0)::int8 as pending
    from ledger_postings p join ledger_transfers t on t.id = p.transfer_id
    where (${operatorId ?? null}::uuid is null or t.operator_id = ${operatorId ?? null})
    group by t.operator_id, p.currency
    order by t.operator_id, p.currency`.execute(db);
  return rows.rows.map((row) => ({
    operatorId: row.operator_id,
    currency: row.currency,
    postedMinor: BigInt(row.posted),
    pendingMinor: BigInt(row.pending),
  }));
}
