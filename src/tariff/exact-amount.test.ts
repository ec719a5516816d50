import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pow10, roundDiv } from '../shared/decimal.ts';
import { parseCurrency } from '../shared/money.ts';
import {
  amountScale,
  exactAmountToDecimal,
  exactAmountToOcpiNumber,
  formatFixed,
  INFINITE_DECIMALS_SHOWN,
  roundExactAmount,
} from './exact-amount.ts';

const EUR = (() => {
  const parsed = parseCurrency('EUR');
  if (!parsed.ok) throw new Error('EUR');
  return parsed.value;
})();

describe('exact amounts over 36 * 10^K', () => {
  const scale = amountScale(8); // D = 3.6e9

  it('shows finite amounts exactly, trimmed to at least the currency decimals', () => {
    expect(exactAmountToDecimal(36n * 10n ** 8n * 5n, scale, 2, 'half-up')).toBe('5.00');
    expect(exactAmountToDecimal(36n * 10n ** 8n * 5n + 36n * 10n ** 5n, scale, 2, 'half-up')).toBe('5.001');
    expect(exactAmountToDecimal(-(36n * 10n ** 6n * 125n), scale, 2, 'half-up')).toBe('-1.25');
    expect(exactAmountToDecimal(0n, scale, 0, 'half-up')).toBe('0');
  });

  it('shows amounts without a finite expansion to 20 places, the last one rounded', () => {
    // 1/3 and 2/3 of a currency unit.
    expect(exactAmountToDecimal(12n * 10n ** 8n, scale, 2, 'half-up')).toBe('0.33333333333333333333');
    expect(exactAmountToDecimal(24n * 10n ** 8n, scale, 2, 'half-up')).toBe('0.66666666666666666667');
    expect(exactAmountToDecimal(-(24n * 10n ** 8n), scale, 2, 'half-up')).toBe('-0.66666666666666666667');
  });

  it('gives the same digits by long division as by one multi-word bigint division', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }),
        fc.integer({ min: 0, max: 13 }),
        fc.constantFrom('half-up' as const, 'half-even' as const),
        (amount, decimals, mode) => {
          const s = amountScale(decimals);
          fc.pre(amount % 9n !== 0n);
          const direct = formatFixed(roundDiv(amount * pow10(INFINITE_DECIMALS_SHOWN), s.denominator, mode), 20, 20);
          expect(exactAmountToDecimal(amount, s, 2, mode)).toBe(direct);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rounds to minor units once, half-up or half-even', () => {
    const half = (36n * 10n ** 8n * 125n) / 1000n; // 0.125
    expect(roundExactAmount(half, scale, EUR, 'half-up')).toEqual({ minor: 13n, currency: 'EUR' });
    expect(roundExactAmount(half, scale, EUR, 'half-even')).toEqual({ minor: 12n, currency: 'EUR' });
    expect(roundExactAmount(-half, scale, EUR, 'half-up')).toEqual({ minor: -13n, currency: 'EUR' });
  });

  it('gives OCPI numbers as the double nearest to the exact value', () => {
    expect(exactAmountToOcpiNumber(36n * 10n ** 8n * 5n + 36n * 10n ** 4n * 24n, scale)).toBe(5.0024);
    expect(exactAmountToOcpiNumber(12n * 10n ** 8n, scale)).toBe(1 / 3);
    expect(exactAmountToOcpiNumber(0n, scale)).toBe(0);
    const large = amountScale(20);
    expect(exactAmountToOcpiNumber(36n * 10n ** 20n * 1234567n + 36n * 10n ** 15n, large)).toBe(1234567.00001);
  });
});
