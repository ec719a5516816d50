/**
 * CSV export of any table (RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote or line break
 * quoted, quotes doubled). Cells that a spreadsheet would run as a formula (=, +, -, @ first) get a leading
 * apostrophe, so an exported id tag or station name cannot inject a formula. Pure.
 */

export type CsvColumn<Row> = { readonly header: string; readonly value: (row: Row) => unknown };

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function csvField(value: unknown): string {
  let text = cellText(value);
  // A negative number is data, not a formula: only text starting with a formula character is neutralized.
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv<Row>(rows: readonly Row[], columns: readonly CsvColumn<Row>[]): string {
  const lines = [columns.map((c) => csvField(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(c.value(row))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
