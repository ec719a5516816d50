import { describe, expect, it } from 'vitest';
import { parseDateTimeMs, parseDayNumber } from './parse-date-time.ts';

describe('parseDateTimeMs', () => {
  it('reads RFC 3339 with Z, an offset, or (OCPI) no designator as UTC', () => {
    expect(parseDateTimeMs('2015-06-29T20:39:09Z', 'utc')).toBe(Date.UTC(2015, 5, 29, 20, 39, 9));
    expect(parseDateTimeMs('2015-06-29T22:39:09.5+02:00', 'utc')).toBe(Date.UTC(2015, 5, 29, 20, 39, 9, 500));
    expect(parseDateTimeMs('2015-06-29T20:39:09', 'utc')).toBe(Date.UTC(2015, 5, 29, 20, 39, 9));
    expect(parseDateTimeMs('2015-06-29T20:39:09.123000Z', 'utc')).toBe(Date.UTC(2015, 5, 29, 20, 39, 9, 123));
  });

  it('refuses what would be a guess or a silent truncation', () => {
    expect(parseDateTimeMs('2015-06-29T20:39:09', 'reject')).toBe('expected an explicit offset (Z or +hh:mm)');
    expect(parseDateTimeMs('2015-06-29T20:39:09.1234Z', 'utc')).toBe('sub-millisecond precision is not supported');
    expect(parseDateTimeMs('2015-02-29T20:39:09Z', 'utc')).toBe(
      'expected an RFC 3339 date-time with a valid calendar date and time of day',
    );
    expect(parseDateTimeMs('29/06/2015 20:39', 'utc')).toBe(
      'expected an RFC 3339 date-time such as 2015-06-29T20:39:09Z',
    );
  });
});

describe('parseDayNumber', () => {
  it('reads local dates as day numbers and refuses impossible ones', () => {
    expect(parseDayNumber('1970-01-02')).toBe(1);
    expect(parseDayNumber('2024-02-29')).toBe(19782);
    expect(parseDayNumber('2025-02-29')).toBeUndefined();
    expect(parseDayNumber('2025-1-01')).toBeUndefined();
  });
});
