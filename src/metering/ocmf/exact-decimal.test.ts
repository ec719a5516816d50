import { describe, expect, it } from 'vitest';
import { compareDecimal, formatDecimal, parseExactDecimal, shift, subtractDecimal } from './exact-decimal.ts';

const decimal = (text: string) => {
  const value = parseExactDecimal(text);
  if (value === undefined) throw new Error(text);
  return value;
};

describe('exact decimals', () => {
  it.each([
    ['2935.600', { units: 29356n, scale: 1 }],
    ['00000000.000', { units: 0n, scale: 0 }],
    ['-1.25', { units: -125n, scale: 2 }],
    ['1E3', { units: 1000n, scale: 0 }],
    ['1.5e-2', { units: 15n, scale: 3 }],
    ['+7', { units: 7n, scale: 0 }],
  ])('parses %s exactly', (text, expected) => {
    expect(parseExactDecimal(text)).toEqual(expected);
  });

  it.each(['', '1.', '.5', '1,5', ' 1', '0x10', '1e31', '1'.repeat(41)])('rejects %j', (text) => {
    expect(parseExactDecimal(text)).toBeUndefined();
  });

  it('converts kWh to Wh by moving the decimal point, never through a float', () => {
    expect(formatDecimal(shift(decimal('0.2596'), 3))).toBe('259.6');
    expect(formatDecimal(shift(decimal('1234.56'), 3))).toBe('1234560');
    expect(formatDecimal(shift(decimal('0.1'), 3))).toBe('100');
    expect(formatDecimal(shift(decimal('15762'), -3))).toBe('15.762');
  });

  it('subtracts and compares exactly where floats would not (0.3 − 0.1 is 0.2)', () => {
    expect(formatDecimal(subtractDecimal(decimal('0.3'), decimal('0.1')))).toBe('0.2');
    expect(formatDecimal(subtractDecimal(decimal('62500.1270'), decimal('62500.1271')))).toBe('-0.0001');
    expect(compareDecimal(decimal('1.10'), decimal('1.1'))).toBe(0);
    expect(compareDecimal(decimal('1.09'), decimal('1.1'))).toBe(-1);
    expect(compareDecimal(decimal('2'), decimal('1.999'))).toBe(1);
  });

  it('formats without exponent and without trailing zeros', () => {
    expect(formatDecimal({ units: 1500n, scale: 3 })).toBe('1.5');
    expect(formatDecimal({ units: -5n, scale: 3 })).toBe('-0.005');
    expect(formatDecimal({ units: 0n, scale: 4 })).toBe('0');
  });
});
