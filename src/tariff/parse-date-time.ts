/**
 * RFC 3339 timestamps as used by OCPI and by Voltbill's session timeline, parsed to epoch milliseconds.
 * Date.parse is not used because it accepts many non-RFC forms and silently interprets a missing offset as local
 * time of the machine, which would make pricing depend on where it runs.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * How a timestamp without an offset is read. OCPI 2.2.1 says every timestamp is UTC and "the absence of the
 * timezone designator implies a UTC timestamp"; Voltbill's own timeline format requires an explicit offset.
 */
export type MissingOffset = 'utc' | 'reject';

/**
 * Parses `2015-06-29T20:39:09Z` (fractional seconds and a `+hh:mm` offset allowed) to epoch ms. Returns a reason
 * string when invalid. Sub-millisecond digits must be zero: a timestamp is never silently truncated.
 */
export function parseDateTimeMs(text: string, missingOffset: MissingOffset): number | string {
  const match = DATE_TIME.exec(text);
  if (!match) return 'expected an RFC 3339 date-time such as 2015-06-29T20:39:09Z';
  const [, y, mo, d, h, mi, s, fraction = '', offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (!isValidDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
    return 'expected an RFC 3339 date-time with a valid calendar date and time of day';
  }
  if (/[1-9]/.test(fraction.slice(3))) return 'sub-millisecond precision is not supported';
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (offset === undefined) {
    if (missingOffset === 'reject') return 'expected an explicit offset (Z or +hh:mm)';
  } else if (offset !== 'Z' && offset !== 'z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const offsetHours = Number(offset.slice(1, 3));
    const offsetMins = Number(offset.slice(4, 6));
    if (offsetHours > 23 || offsetMins > 59) return 'expected an offset between -23:59 and +23:59';
    offsetMinutes = sign * (offsetHours * 60 + offsetMins);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

/**
 * Parses a calendar date `YYYY-MM-DD` to its day number (days since 1970-01-01). Returns undefined when the text is
 * not a valid date.
 */
export function parseDayNumber(text: string): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (!isValidDate(year, month, day)) return undefined;
  return Date.UTC(year, month - 1, day) / 86_400_000;
}

function isValidDate(year: number, month: number, day: number): boolean {
  // Date.UTC maps years 0-99 to 1900-1999; no tariff or session is that old, so such a year is simply invalid.
  if (year < 1000 || month < 1 || month > 12 || day < 1) return false;
  // Day 0 of the next month is the last day of this month.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}
