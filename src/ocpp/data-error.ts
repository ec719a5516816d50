/**
 * A station's value the database cannot hold (a number beyond the column's range, a NUL character in a string, an
 * impossible date) is the station's error, not ours: it is answered with PropertyConstraintViolation, which a
 * station does not retry, instead of InternalError, which it would retry forever. The handler's transaction has
 * rolled back, so nothing was stored. Only SQLSTATE class 22 ("data exception") qualifies: those errors are caused
 * by a value, never by the server's state.
 */
const DATA_EXCEPTIONS: Readonly<Record<string, string>> = {
  '22003': 'a number is out of the range Voltbill stores',
  '22P02': 'a value has an invalid text representation',
  '22P05': 'a string contains a character that cannot be stored (such as NUL)',
  '22021': 'a string contains a byte sequence that is not valid UTF-8 (such as NUL)',
  '22001': 'a string is longer than Voltbill stores',
  '22007': 'a date or time has an invalid format',
  '22008': 'a date or time is out of range',
  '22023': 'a value is out of the allowed range',
};

/** The description for a station's value the database refused, or undefined for any other error. */
export function describeDataException(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('22')) return undefined;
  return DATA_EXCEPTIONS[code] ?? 'a value cannot be stored';
}
