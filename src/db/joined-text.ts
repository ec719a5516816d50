/**
 * A column of a batch INSERT as one text parameter: its values joined by a separator and split again by
 * PostgreSQL's `string_to_array`. A text[] parameter instead has every value's quotes and backslashes escaped by the
 * driver (two regular-expression passes per value in `pg`) and unescaped by the server. For the message log, whose
 * payloads hold dozens of quotes, that was half of its node CPU per frame (bench/message-log.bench.ts).
 *
 * The separators are control characters that JSON text holds only escaped (JSON's whitespace is space, tab, CR and
 * LF): a frame's payload never contains them, nor do identifiers, timestamps and decimals. A value that does, or
 * the empty string (string_to_array reads '' as no element at all), cannot be joined: its caller sends arrays.
 */
import { type RawBuilder, sql } from 'kysely';

const FIELD_SEPARATOR = '\u001e';
const NULL_FIELD = '\u001f';
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are the separators looked for.
const SEPARATORS = /[\u001e\u001f]/;

/** The values joined by FIELD_SEPARATOR, a null as NULL_FIELD; undefined when one value cannot be joined. */
export function joinFields(values: readonly (string | null)[]): string | undefined {
  let joined = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === '' || (value !== null && value !== undefined && SEPARATORS.test(value))) return undefined;
    if (i > 0) joined += FIELD_SEPARATOR;
    joined += value ?? NULL_FIELD;
  }
  return joined;
}

/** Every column joined, or undefined when one of them cannot be (the batch then goes as arrays). */
export function joinColumns(columns: readonly (readonly (string | null)[])[]): string[] | undefined {
  const joined = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const column = joinFields(columns[i]!);
    if (column === undefined) return undefined;
    joined[i] = column;
  }
  return joined;
}

/** SQL of the text[] a joined column stands for (NULL_FIELD read as NULL); cast it for other element types. */
export function splitFields(joined: string): RawBuilder<string[]> {
  return sql<string[]>`string_to_array(${joined}::text, E'\\x1e', E'\\x1f')`;
}
