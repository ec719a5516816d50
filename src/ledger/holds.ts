/**
 * Holds: a pending transfer reserves money (its postings count as pending, never as posted) until it is posted
 * (in full, or partially for a two-legged hold such as a card pre-authorization) or voided, exactly once. The
 * pending transfer row is locked FOR UPDATE while it is resolved, so two workers cannot both capture one hold.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';
import { err, type Result } from '../shared/result.ts';
import type { AccountRef } from './accounts.ts';
import type { LedgerError } from './ledger-error.ts';
import { type PostedTransfer, writeTransfers } from './post-transfer.ts';
import type { Posting, TransferInput } from './transfer.ts';

/** Places a hold: the postings are reserved, not posted. */
export async function createHold(
  db: Kysely<Database>,
  transfer: TransferInput,
): Promise<Result<PostedTransfer, LedgerError>> {
  const [result] = await writeTransfers(db, [{ ...transfer, kind: 'pending' }]);
  assert(result, 'one result per transfer');
  return result;
}

export type ResolveHold = {
  readonly operatorId: string;
  readonly pendingId: string;
  readonly idempotencyKey: string;
  readonly cause: TransferInput['cause'];
  readonly invoiceId?: string | null;
  readonly at?: Date;
};

/**
 * Posts a hold. Without `amountMinor` the whole hold is posted; with it (only for a two-legged hold) that part is
 * posted and the rest released. Run inside a transaction: the hold row stays locked until commit.
 */
export async function postHold(
  db: Kysely<Database>,
  request: ResolveHold & { readonly amountMinor?: bigint },
): Promise<Result<PostedTransfer, LedgerError>> {
  const hold = await lockHold(db, request);
  if (!hold.ok) return hold;
  let postings = hold.value.postings;
  if (request.amountMinor !== undefined) {
    const debit = postings.find((posting) => posting.amountMinor > 0n);
    if (postings.length !== 2 || !debit) {
      return err({ code: 'AmountExceedsHold', message: 'a partial amount can only post a two-legged hold' });
    }
    if (request.amountMinor <= 0n || request.amountMinor > debit.amountMinor) {
      return err({
        code: 'AmountExceedsHold',
        message: `cannot post ${request.amountMinor} of a hold of ${debit.amountMinor} minor units`,
      });
    }
    const amount = request.amountMinor;
    postings = postings.map((posting) => ({ ...posting, amountMinor: posting.amountMinor > 0n ? amount : -amount }));
  }
  const [result] = await writeTransfers(db, [
    {
      operatorId: request.operatorId,
      currency: hold.value.currency,
      idempotencyKey: request.idempotencyKey,
      cause: request.cause,
      postings,
      kind: 'post_pending',
      pendingId: request.pendingId,
      invoiceId: request.invoiceId ?? null,
      ...(request.at && { at: request.at }),
    },
  ]);
  assert(result, 'one result per transfer');
  return result;
}

/** Voids a hold: its reservation ends and nothing is posted. */
export async function voidHold(
  db: Kysely<Database>,
  request: ResolveHold,
): Promise<Result<PostedTransfer, LedgerError>> {
  const hold = await lockHold(db, request);
  if (!hold.ok) return hold;
  const [result] = await writeTransfers(db, [
    {
      operatorId: request.operatorId,
      currency: hold.value.currency,
      idempotencyKey: request.idempotencyKey,
      cause: request.cause,
      postings: [],
      kind: 'void_pending',
      pendingId: request.pendingId,
      invoiceId: request.invoiceId ?? null,
      ...(request.at && { at: request.at }),
    },
  ]);
  assert(result, 'one result per transfer');
  return result;
}

type LockedHold = { currency: string; postings: Posting[] };

async function lockHold(db: Kysely<Database>, request: ResolveHold): Promise<Result<LockedHold, LedgerError>> {
  const hold = await db
    .selectFrom('ledger_transfers')
    .select(['id', 'kind', 'currency'])
    .where('operator_id', '=', request.operatorId)
    .where('id', '=', request.pendingId)
    .forUpdate()
    .executeTakeFirst();
  if (!hold) return err({ code: 'TransferNotFound', message: `no transfer ${request.pendingId}` });
  if (hold.kind !== 'pending')
    return err({ code: 'NotAHold', message: `transfer ${hold.id} is ${hold.kind}, not a hold` });
  const resolved = await db
    .selectFrom('ledger_transfers')
    .select(['id', 'idempotency_key'])
    .where('pending_id', '=', hold.id)
    .executeTakeFirst();
  if (resolved) {
    // The same request again (a retry) is answered by the idempotent write; another one is refused.
    if (resolved.idempotency_key !== request.idempotencyKey) {
      return err({
        code: 'HoldAlreadyResolved',
        message: `hold ${hold.id} was resolved by transfer ${resolved.id}`,
        resolvedBy: resolved.id,
      });
    }
  }
  const postings = await db
    .selectFrom('ledger_postings as p')
    .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
    .select(['a.code', 'a.kind', 'p.amount_minor'])
    .where('p.transfer_id', '=', hold.id)
    .orderBy('p.id')
    .execute();
  return {
    ok: true,
    value: {
      currency: hold.currency,
      postings: postings.map((row) => ({
        account: { code: row.code, kind: row.kind } as AccountRef,
        amountMinor: row.amount_minor,
      })),
    },
  };
}
