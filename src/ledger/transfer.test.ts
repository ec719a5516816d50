import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionFailed } from '../shared/assert.ts';
import { accountId, accounts } from './accounts.ts';
import { assertValidTransfer, type TransferRecord, transferContentHash } from './transfer.ts';

const base: TransferRecord = {
  operatorId: '00000000-0000-4000-8000-000000000001',
  currency: 'EUR',
  idempotencyKey: 'k',
  cause: { type: 'test', id: 'k' },
  kind: 'posted',
  postings: [
    { account: accounts.customerReceivables(), amountMinor: 119n },
    { account: accounts.chargingRevenue(), amountMinor: -100n },
    { account: accounts.vatPayable('DEU', '19'), amountMinor: -19n },
  ],
};

describe('transfers', () => {
  it('accepts balanced transfers and crashes on anything else', () => {
    expect(() => assertValidTransfer(base)).not.toThrow();
    expect(() => assertValidTransfer({ ...base, postings: base.postings.slice(0, 2) })).toThrow(AssertionFailed);
    expect(() =>
      assertValidTransfer({ ...base, postings: [...base.postings, { account: accounts.bank(), amountMinor: 0n }] }),
    ).toThrow(/zero posting/);
    expect(() => assertValidTransfer({ ...base, currency: 'XAU' })).toThrow(/unknown currency/);
    expect(() => assertValidTransfer({ ...base, postings: [base.postings[0]!] })).toThrow(/at least two/);
  });

  it('property: any split of an amount over accounts balances; any change of one leg does not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 15n }), { minLength: 1, maxLength: 8 }),
        fc.bigInt({ min: 1n, max: 99n }),
        (legs, delta) => {
          const total = legs.reduce((a, b) => a + b, 0n);
          const postings = [
            { account: accounts.customerReceivables(), amountMinor: total },
            ...legs.map((amount, i) => ({ account: accounts.vatPayable('DEU', String(i)), amountMinor: -amount })),
          ];
          expect(() => assertValidTransfer({ ...base, postings })).not.toThrow();
          const broken = postings.map((p, i) => (i === 0 ? { ...p, amountMinor: p.amountMinor + delta } : p));
          expect(() => assertValidTransfer({ ...base, postings: broken })).toThrow(/unbalanced/);
        },
      ),
    );
  });

  it('hashes content, not order, and derives stable account ids', () => {
    const reordered = { ...base, postings: [...base.postings].reverse() };
    expect(transferContentHash(reordered)).toBe(transferContentHash(base));
    expect(transferContentHash({ ...base, invoiceId: 'x' })).not.toBe(transferContentHash(base));
    expect(accountId(base.operatorId, 'bank', 'EUR')).toBe(accountId(base.operatorId, 'bank', 'EUR'));
    expect(accountId(base.operatorId, 'bank', 'EUR')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(accountId(base.operatorId, 'bank', 'EUR')).not.toBe(accountId(base.operatorId, 'bank', 'USD'));
  });
});
