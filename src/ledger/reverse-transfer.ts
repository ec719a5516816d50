/**
 * Corrections: a transfer is never edited; a reversing transfer posts the same legs with opposite signs, exactly
 * once per transfer (a unique index), and names the transfer it reverses.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';
import { err, type Result } from '../shared/result.ts';
import type { AccountRef } from './accounts.ts';
import type { LedgerError } from './ledger-error.ts';
import { type PostedTransfer, writeTransfers } from './post-transfer.ts';
import type { TransferInput } from './transfer.ts';

export type ReverseRequest = {
  readonly operatorId: string;
  readonly transferId: string;
  readonly idempotencyKey: string;
  readonly cause: TransferInput['cause'];
  readonly invoiceId?: string | null;
  readonly description?: string;
  readonly at?: Date;
};

/** Reverses a posted transfer (or a posted hold). Run inside a transaction: the original stays locked until commit. */
export async function reverseTransfer(
  db: Kysely<Database>,
  request: ReverseRequest,
): Promise<Result<PostedTransfer, LedgerError>> {
  const original = await db
    .selectFrom('ledger_transfers')
    .select(['id', 'kind', 'currency'])
    .where('operator_id', '=', request.operatorId)
    .where('id', '=', request.transferId)
    .forUpdate()
    .executeTakeFirst();
  if (!original) return err({ code: 'TransferNotFound', message: `no transfer ${request.transferId}` });
  if (original.kind !== 'posted' && original.kind !== 'post_pending') {
    return err({
      code: 'NotReversible',
      message: `transfer ${original.id} is ${original.kind}; only posted money is reversed`,
    });
  }
  const reversal = await db
    .selectFrom('ledger_transfers')
    .select(['id', 'idempotency_key'])
    .where('reverses_id', '=', original.id)
    .executeTakeFirst();
  if (reversal && reversal.idempotency_key !== request.idempotencyKey) {
    return err({
      code: 'AlreadyReversed',
      message: `transfer ${original.id} was reversed by ${reversal.id}`,
      reversedBy: reversal.id,
    });
  }
  const postings = await db
    .selectFrom('ledger_postings as p')
    .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
    .select(['a.code', 'a.kind', 'p.amount_minor'])
    .where('p.transfer_id', '=', original.id)
    .orderBy('p.id')
    .execute();
  const [result] = await writeTransfers(db, [
    {
      operatorId: request.operatorId,
      currency: original.currency,
      idempotencyKey: request.idempotencyKey,
      cause: request.cause,
      kind: 'reversal',
      reversesId: original.id,
      invoiceId: request.invoiceId ?? null,
      description: request.description ?? `reverses ${original.id}`,
      postings: postings.map((row) => ({
        account: { code: row.code, kind: row.kind } as AccountRef,
        amountMinor: -row.amount_minor,
      })),
      ...(request.at && { at: request.at }),
    },
  ]);
  assert(result, 'one result per transfer');
  return result;
}
