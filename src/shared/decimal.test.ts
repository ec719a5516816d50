import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatScaled, parseScaled, rescale, roundDiv } from './decimal.ts';

describe('parseScaled', () => {
  it('reads decimals exactly from text and from JSON numbers', () => {
    expect(parseScaled('12.345', 3)).toBe(12345n);
    expect(parseScaled('12.345', 6)).toBe(12345000n);
    expect(parseScaled(0.1, 4)).toBe(1000n);
    expect(parseScaled(0.30000000000000004, 4)).toBeUndefined();
    expect(parseScaled('-0.50', 2)).toBe(-50n);
    expect(parseScaled('1e-3', 3)).toBe(1n);
    expect(parseScaled('2.5E2', 0)).toBe(250n);
    expect(parseScaled(' 7 ', 1)).toBe(70n);
  });

  it('refuses what it cannot represent exactly or is not a decimal', () => {
    expect(parseScaled('1.2345', 3)).toBeUndefined();
    expect(parseScaled('abc', 3)).toBeUndefined();
    expect(parseScaled('1,5', 3)).toBeUndefined();
    expect(parseScaled('', 3)).toBeUndefined();
    expect(parseScaled(Number.NaN, 3)).toBeUndefined();
    expect(parseScaled(Number.POSITIVE_INFINITY, 3)).toBeUndefined();
  });
});

describe('formatScaled', () => {
  it('formats with the requested places', () => {
    expect(formatScaled(1234n, 2)).toBe('12.34');
    expect(formatScaled(5n, 2)).toBe('0.05');
    expect(formatScaled(-5n, 2)).toBe('-0.05');
    expect(formatScaled(1234n, 0)).toBe('1234');
    expect(formatScaled(1234n, 2, 4)).toBe('12.3400');
    expect(formatScaled(0n, 3)).toBe('0.000');
  });

  it('round-trips with parseScaled', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.integer({ min: 0, max: 12 }),
        (value, scale) => {
          expect(parseScaled(formatScaled(value, scale), scale)).toBe(value);
        },
      ),
    );
  });
});

describe('roundDiv, the one rounding function', () => {
  it('rounds half up (away from zero) and half even', () => {
    expect(roundDiv(25n, 10n, 'half-up')).toBe(3n);
    expect(roundDiv(-25n, 10n, 'half-up')).toBe(-3n);
    expect(roundDiv(25n, 10n, 'half-even')).toBe(2n);
    expect(roundDiv(35n, 10n, 'half-even')).toBe(4n);
    expect(roundDiv(-35n, 10n, 'half-even')).toBe(-4n);
    expect(roundDiv(24n, 10n, 'half-up')).toBe(2n);
    expect(roundDiv(26n, 10n, 'half-even')).toBe(3n);
    expect(roundDiv(7n, -2n, 'half-up')).toBe(-4n);
  });

  it('is never more than half a unit away from the exact quotient', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.constantFrom('half-up' as const, 'half-even' as const),
        (numerator, denominator, mode) => {
          const rounded = roundDiv(numerator, denominator, mode);
          const error = rounded * denominator - numerator;
          expect(2n * (error < 0n ? -error : error) <= denominator).toBe(true);
        },
      ),
    );
  });

  it('rescales 4-decimal amounts to cents', () => {
    expect(rescale(16_665n, 4, 2, 'half-up')).toBe(167n);
    expect(rescale(16_650n, 4, 2, 'half-even')).toBe(166n);
    expect(rescale(12n, 2, 4, 'half-up')).toBe(1200n);
  });
});
