/**
 * What a transfer is before it is written: pure validation and the content hash that guards idempotency keys.
 * An unbalanced or malformed transfer is a bug in the caller, so it fails an assertion (crashes loudly) rather
 * than returning an error.
 */
import { createHash } from 'node:crypto';
import type { LedgerTransferKind } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';
import { ISO_4217_EXPONENTS } from '../shared/iso4217.ts';
import type { AccountRef } from './accounts.ts';

/** One leg of a transfer: debit positive, credit negative, in minor units of the transfer's currency. */
export type Posting = { readonly account: AccountRef; readonly amountMinor: bigint };

/** Why money moved: the domain object the idempotency key derives from. */
export type TransferCause = {
  readonly type:
    | 'session'
    | 'invoice'
    | 'credit_note'
    | 'capture'
    | 'refund'
    | 'hold'
    | 'payout'
    | 'write_off'
    | 'correction'
    | 'benchmark'
    | 'test';
  readonly id: string;
};

export type TransferInput = {
  readonly operatorId: string;
  readonly currency: string;
  /** Unique per operator; derive it from the cause, e.g. `capture:${captureId}`, so a retry posts nothing new. */
  readonly idempotencyKey: string;
  readonly cause: TransferCause;
  readonly postings: readonly Posting[];
  /** The invoice this money belongs to (captures, refunds), for reconciliation of payments against invoices. */
  readonly invoiceId?: string | null;
  readonly description?: string;
  /** Booking time; defaults to the database's now(). */
  readonly at?: Date;
};

/** A transfer as written: the input plus what the ledger's own operations add (holds, reversals). */
export type TransferRecord = TransferInput & {
  readonly kind: LedgerTransferKind;
  readonly pendingId?: string | null;
  readonly reversesId?: string | null;
};

/** Asserts the ledger's invariants of one transfer: one currency, non-zero legs, sum exactly zero. */
export function assertValidTransfer(transfer: TransferRecord): void {
  assert(ISO_4217_EXPONENTS[transfer.currency] !== undefined, `transfer in unknown currency ${transfer.currency}`);
  assert(
    transfer.idempotencyKey.length >= 1 && transfer.idempotencyKey.length <= 200,
    'idempotency key must be 1 to 200 characters',
  );
  const mayBeEmpty = transfer.kind === 'void_pending';
  assert(
    mayBeEmpty || transfer.postings.length >= 2,
    `transfer ${transfer.idempotencyKey} needs at least two postings`,
  );
  let sum = 0n;
  for (const posting of transfer.postings) {
    assert(typeof posting.amountMinor === 'bigint', 'posting amounts are bigint minor units');
    assert(posting.amountMinor !== 0n, `transfer ${transfer.idempotencyKey} has a zero posting`);
    sum += posting.amountMinor;
  }
  assert(sum === 0n, `transfer ${transfer.idempotencyKey} is unbalanced by ${sum} minor units`);
}

/** SHA-256 over the transfer's meaning (not its id or time): the same key with other content is refused. */
export function transferContentHash(transfer: TransferRecord): string {
  const legs = transfer.postings
    .map((p) => `${p.account.code}=${p.amountMinor}`)
    .sort()
    .join(',');
  const text = [
    transfer.operatorId,
    transfer.currency,
    transfer.kind,
    transfer.cause.type,
    transfer.cause.id,
    transfer.invoiceId ?? '',
    transfer.pendingId ?? '',
    transfer.reversesId ?? '',
    legs,
  ].join('|');
  return createHash('sha256').update(text).digest('hex');
}
