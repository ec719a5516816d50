/**
 * Epoch milliseconds as an RFC 3339 UTC timestamp, `2015-06-29T20:39:09.000Z`, exactly as Date#toISOString
 * prints it for years 0-9999. Written out because a CDR prints one per period and Date#toISOString (with its Date
 * allocation) costs several times more; format-utc.test.ts checks both agree.
 */

const DAY_MS = 86_400_000;

/** The last day formatted and its `YYYY-MM-DDT` text: a session's periods nearly always share their day. */
let cachedDay = Number.NaN;
let cachedDayText = '';

/** ms since 1970-01-01T00:00:00Z to `YYYY-MM-DDTHH:MM:SS.sssZ`; years must be within 0-9999. */
export function formatUtcIso(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  let msOfDay = ms - days * DAY_MS;
  if (days !== cachedDay) {
    cachedDayText = formatDay(days);
    cachedDay = days;
  }
  const hours = Math.floor(msOfDay / 3_600_000);
  msOfDay -= hours * 3_600_000;
  const minutes = Math.floor(msOfDay / 60_000);
  msOfDay -= minutes * 60_000;
  const seconds = Math.floor(msOfDay / 1000);
  const millis = msOfDay - seconds * 1000;
  return `${cachedDayText}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}

/** "00".."99" and "000".."999": table lookups instead of number formatting for every timestamp. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/** `YYYY-MM-DDT` of a day number. */
function formatDay(days: number): string {
  // Civil date from a day count (H. Hinnant, "chrono-compatible low-level date algorithms").
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const yearText = year >= 1000 ? String(year) : String(year).padStart(4, '0');
  return `${yearText}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T`;
}
