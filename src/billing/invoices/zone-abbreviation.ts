/**
 * The short name of a time zone at an instant ("CET", "CEST", "GMT+1"), exactly as Luxon's `ZZZZ` token prints it,
 * without building a new Intl.DateTimeFormat for every call: Luxon does (parseZoneInfo), and that was the largest
 * cost of building an invoice document. The formatter is made with the very options Luxon uses and kept per locale
 * and zone (a bounded map: a deployment has a handful of zones).
 */

/** Formatters kept at most; beyond that the oldest is dropped (only reached with thousands of distinct zones). */
const MAX_FORMATTERS = 256;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}`;
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    // The options of Luxon 3's parseZoneInfo for offsetName(ts, { format: 'short', locale }).
    formatter = new Intl.DateTimeFormat(locale, {
      timeZoneName: 'short',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      timeZone,
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value as string);
    formatters.set(key, formatter);
  }
  return formatter;
}

/** The zone's short name at `at` in `locale`; null where Intl has none (Luxon then prints "null" too). */
export function zoneAbbreviation(at: Date, timeZone: string, locale: string): string | null {
  const part = formatterFor(locale, timeZone)
    .formatToParts(at)
    .find((p) => p.type.toLowerCase() === 'timezonename');
  return part ? part.value : null;
}
