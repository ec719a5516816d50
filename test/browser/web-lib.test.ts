/** The pages' pure helpers: exact display of amounts and energy, CSV export, revenue buckets. */
import { describe, expect, it } from 'vitest';
import { bucketize, bucketKey } from '../../web/src/lib/buckets.ts';
import { csvField, toCsv } from '../../web/src/lib/csv.ts';
import {
  decimalToScaled,
  formatAmount,
  formatDurationS,
  formatEnergyWh,
  scaledToDecimal,
} from '../../web/src/lib/format.ts';

describe('format', () => {
  it('shows energy exactly in kWh and amounts as the API sent them', () => {
    expect(formatEnergyWh(5000)).toBe('5.000 kWh');
    expect(formatEnergyWh(7)).toBe('0.007 kWh');
    expect(formatEnergyWh(123_456_789)).toBe('123456.789 kWh');
    expect(formatEnergyWh(null)).toBe('–');
    expect(formatAmount('3.34', 'EUR')).toBe('EUR 3.34');
    expect(formatAmount(null, 'EUR')).toBe('–');
    expect(formatDurationS(3900)).toBe('1 h 05 min');
    expect(decimalToScaled('3.4', 2)).toBe(340n);
    expect(decimalToScaled('3.456', 2)).toBeUndefined();
    expect(scaledToDecimal(-5n, 2)).toBe('-0.05');
  });
});

describe('csv', () => {
  it('quotes per RFC 4180 and neutralizes spreadsheet formulas', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('-3.34')).toBe('-3.34');
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(null)).toBe('');
    const rows = [{ id: 'x', n: 1 }];
    expect(
      toCsv(rows, [
        { header: 'Id', value: (r) => r.id },
        { header: 'N', value: (r) => r.n },
      ]),
    ).toBe('Id,N\r\nx,1\r\n');
  });
});

describe('revenue buckets', () => {
  it('groups by UTC day, ISO week and month with exact sums per currency', () => {
    expect(bucketKey('2026-11-24T23:59:59Z', 'day')).toBe('2026-11-24');
    expect(bucketKey('2026-11-24T10:00:00Z', 'week')).toBe('2026-W48');
    expect(bucketKey('2027-01-01T10:00:00Z', 'week')).toBe('2026-W53');
    expect(bucketKey('2026-11-24T10:00:00Z', 'month')).toBe('2026-11');
    const records = [
      { at: '2026-11-24T10:00:00Z', energyWh: 5000, amount: '3.34', currency: 'EUR', group: 'a' },
      { at: '2026-11-24T12:00:00Z', energyWh: 1000, amount: '0.10', currency: 'EUR', group: 'b' },
      { at: '2026-11-23T12:00:00Z', energyWh: 1, amount: '0.01', currency: 'EUR', group: 'a' },
    ];
    // 0.1 + 0.2-style float drift cannot happen: the sums are integers of cents.
    expect(bucketize(records, 'day')).toEqual([
      { key: '2026-11-23', energyWh: 1, count: 1, revenue: { EUR: '0.01' } },
      { key: '2026-11-24', energyWh: 6000, count: 2, revenue: { EUR: '3.44' } },
    ]);
    expect(bucketize(records, 'month', 'a')).toEqual([
      { key: '2026-11', energyWh: 5001, count: 2, revenue: { EUR: '3.35' } },
    ]);
  });
});
