import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatUtcIso } from './format-utc.ts';

describe('formatUtcIso', () => {
  it('prints what Date#toISOString prints, for any instant of years 0-9999', () => {
    fc.assert(
      fc.property(
        fc.integer({
          min: Date.UTC(0, 0, 1) - 1900 * 365.2425 * 86_400_000,
          max: Date.UTC(9999, 11, 31, 23, 59, 59, 999),
        }),
        (ms) => {
          expect(formatUtcIso(ms)).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('prints leap days and the first instant of a year', () => {
    expect(formatUtcIso(Date.UTC(2024, 1, 29, 23, 59, 59, 7))).toBe('2024-02-29T23:59:59.007Z');
    expect(formatUtcIso(Date.UTC(2025, 0, 1))).toBe('2025-01-01T00:00:00.000Z');
  });
});
