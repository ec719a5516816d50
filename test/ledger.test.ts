/** The ledger on a real database: balanced, append-only, idempotent transfers; holds; reversals; balances. */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { accounts } from '../src/ledger/accounts.ts';
import { accountBalance, trialBalance } from '../src/ledger/balances.ts';
import { createHold, postHold, voidHold } from '../src/ledger/holds.ts';
import { postTransfer, postTransfers } from '../src/ledger/post-transfer.ts';
import { reverseTransfer } from '../src/ledger/reverse-transfer.ts';
import { AssertionFailed } from '../src/shared/assert.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('ledger', () => {
  let handle: DatabaseHandle;
  let operatorId: string;
  const receivable = accounts.customerReceivables();
  const revenue = accounts.chargingRevenue();
  const vat = accounts.vatPayable('DEU', '19');
  const clearing = accounts.providerClearing('sandbox');

  const sale = (key: string, exclMinor: bigint, vatMinor: bigint) => ({
    operatorId,
    currency: 'EUR',
    idempotencyKey: key,
    cause: { type: 'test' as const, id: key },
    postings: [
      { account: receivable, amountMinor: exclMinor + vatMinor },
      { account: revenue, amountMinor: -exclMinor },
      { account: vat, amountMinor: -vatMinor },
    ],
  });

  beforeAll(async () => {
    handle = await openTestDatabase();
    const op = await handle.db
      .insertInto('operators')
      .values({ name: 'Ledger CPO', country_code: 'DE', party_id: 'LDG', currency: 'EUR' })
      .returning('id')
      .executeTakeFirstOrThrow();
    operatorId = op.id;
  }, 180_000);
  afterAll(async () => {
    await handle?.close();
  });

  it('posts a balanced transfer once per idempotency key', async () => {
    const first = await postTransfer(handle.db, sale('sale-1', 1000n, 190n));
    expect(first.ok && first.value.duplicate).toBe(false);
    const again = await postTransfer(handle.db, sale('sale-1', 1000n, 190n));
    expect(again).toEqual({ ok: true, value: { transferId: first.ok && first.value.transferId, duplicate: true } });
    expect(await accountBalance(handle.db, operatorId, receivable.code, 'EUR')).toEqual({
      postedMinor: 1190n,
      pendingMinor: 0n,
    });
    expect(await accountBalance(handle.db, operatorId, revenue.code, 'EUR')).toEqual({
      postedMinor: -1000n,
      pendingMinor: 0n,
    });
  });

  it('refuses an idempotency key reused for different content', async () => {
    const reused = await postTransfer(handle.db, sale('sale-1', 2000n, 380n));
    expect(reused.ok).toBe(false);
    expect(!reused.ok && reused.error.code).toBe('IdempotencyKeyReused');
  });

  it('asserts balance in code and in the database', async () => {
    await expect(
      postTransfer(handle.db, {
        ...sale('bad-1', 1000n, 190n),
        postings: [
          { account: receivable, amountMinor: 1000n },
          { account: revenue, amountMinor: -999n },
        ],
      }),
    ).rejects.toThrow(AssertionFailed);
    // A VAT-free sale (two legs), then a posting slipped in by hand: the database trigger refuses it.
    const transfer = await postTransfer(handle.db, {
      ...sale('sale-db', 10n, 0n),
      postings: sale('sale-db', 10n, 0n).postings.slice(0, 2),
    });
    expect(transfer.ok).toBe(true);
    const transferId = transfer.ok ? transfer.value.transferId : '';
    const account = await handle.db
      .selectFrom('ledger_postings')
      .select(['account_id'])
      .where('transfer_id', '=', transferId)
      .executeTakeFirstOrThrow();
    await expect(
      handle.db
        .insertInto('ledger_postings')
        .values({ transfer_id: transferId, account_id: account.account_id, currency: 'EUR', amount_minor: 5n })
        .execute(),
    ).rejects.toThrow(/unbalanced/);
  });

  it('is append-only: postings and transfers refuse UPDATE and DELETE', async () => {
    await expect(sql`update ledger_postings set amount_minor = amount_minor * 2`.execute(handle.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from ledger_transfers`.execute(handle.db)).rejects.toThrow(/append-only/);
  });

  it('reverses a transfer exactly once', async () => {
    const posted = await postTransfer(handle.db, sale('sale-r', 500n, 95n));
    const transferId = posted.ok ? posted.value.transferId : '';
    const before = await accountBalance(handle.db, operatorId, revenue.code, 'EUR');
    const reversal = await handle.db.transaction().execute((trx) =>
      reverseTransfer(trx, {
        operatorId,
        transferId,
        idempotencyKey: 'reverse-sale-r',
        cause: { type: 'correction', id: 'c1' },
      }),
    );
    expect(reversal.ok).toBe(true);
    const after = await accountBalance(handle.db, operatorId, revenue.code, 'EUR');
    expect(after.postedMinor - before.postedMinor).toBe(500n);
    const retry = await reverseTransfer(handle.db, {
      operatorId,
      transferId,
      idempotencyKey: 'reverse-sale-r',
      cause: { type: 'correction', id: 'c1' },
    });
    expect(retry.ok && retry.value.duplicate).toBe(true);
    const second = await reverseTransfer(handle.db, {
      operatorId,
      transferId,
      idempotencyKey: 'reverse-sale-r-again',
      cause: { type: 'correction', id: 'c2' },
    });
    expect(!second.ok && second.error.code).toBe('AlreadyReversed');
  });

  it('holds go pending -> posted (partially) or voided, exactly once', async () => {
    const reserved = accounts.holdsReserved('sandbox');
    const pendingAcc = accounts.holdsPending('sandbox');
    const hold = await createHold(handle.db, {
      operatorId,
      currency: 'EUR',
      idempotencyKey: 'hold-1',
      cause: { type: 'hold', id: 'h1' },
      postings: [
        { account: clearing, amountMinor: 5000n },
        { account: receivable, amountMinor: -5000n },
      ],
    });
    const holdId = hold.ok ? hold.value.transferId : '';
    expect(await accountBalance(handle.db, operatorId, clearing.code, 'EUR')).toEqual({
      postedMinor: 0n,
      pendingMinor: 5000n,
    });
    const capture = await handle.db.transaction().execute((trx) =>
      postHold(trx, {
        operatorId,
        pendingId: holdId,
        idempotencyKey: 'capture-1',
        cause: { type: 'capture', id: 'cap1' },
        amountMinor: 1190n,
      }),
    );
    expect(capture.ok).toBe(true);
    expect(await accountBalance(handle.db, operatorId, clearing.code, 'EUR')).toEqual({
      postedMinor: 1190n,
      pendingMinor: 0n,
    });
    const voided = await voidHold(handle.db, {
      operatorId,
      pendingId: holdId,
      idempotencyKey: 'void-1',
      cause: { type: 'hold', id: 'h1' },
    });
    expect(!voided.ok && voided.error.code).toBe('HoldAlreadyResolved');
    const tooMuch = await createHold(handle.db, {
      operatorId,
      currency: 'EUR',
      idempotencyKey: 'hold-2',
      cause: { type: 'hold', id: 'h2' },
      postings: [
        { account: reserved, amountMinor: 100n },
        { account: pendingAcc, amountMinor: -100n },
      ],
    });
    const hold2 = tooMuch.ok ? tooMuch.value.transferId : '';
    const over = await postHold(handle.db, {
      operatorId,
      pendingId: hold2,
      idempotencyKey: 'capture-2',
      cause: { type: 'capture', id: 'cap2' },
      amountMinor: 101n,
    });
    expect(!over.ok && over.error.code).toBe('AmountExceedsHold');
    const released = await voidHold(handle.db, {
      operatorId,
      pendingId: hold2,
      idempotencyKey: 'void-2',
      cause: { type: 'hold', id: 'h2' },
    });
    expect(released.ok).toBe(true);
    expect(await accountBalance(handle.db, operatorId, reserved.code, 'EUR')).toEqual({
      postedMinor: 0n,
      pendingMinor: 0n,
    });
  });

  it('posts a batch and keeps the trial balance at zero', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => sale(`batch-${i}`, BigInt(100 + i), BigInt(19 + i)));
    const results = await postTransfers(handle.db, batch);
    expect(results.every((r) => r.ok && !r.value.duplicate)).toBe(true);
    const again = await postTransfers(handle.db, batch);
    expect(again.every((r) => r.ok && r.value.duplicate)).toBe(true);
    const trial = await trialBalance(handle.db, operatorId);
    expect(trial).toEqual([{ operatorId, currency: 'EUR', postedMinor: 0n, pendingMinor: 0n }]);
  });
});
