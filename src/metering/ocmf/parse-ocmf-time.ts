/**
 * Reads an OCMF time (TM): "<YYYY>-<MM>-<DD>T<hh>:<mm>:<ss>,<mmm><+hhmm> <status>", e.g.
 * "2018-07-24T13:22:04,000+0200 S" — ISO 8601 with a comma before the milliseconds, an offset without colon and a
 * synchronisation letter. A full stop instead of the comma and a missing letter are tolerated and reported.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import type { OcmfTime, OcmfTimeStatus } from './ocmf-document.ts';
import type { Warning } from './verdict-reason.ts';

const TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([,.])(\d{3})([+-])(\d{2})(\d{2})(?: ([UISR]))?$/;

/** The largest UTC offset in use anywhere (UTC+14), in minutes. */
const MAX_OFFSET_MINUTES = 14 * 60;

export type ParsedTime = { readonly time: OcmfTime; readonly deviations: readonly Warning[] };

export function parseOcmfTime(text: string): Result<ParsedTime, string> {
  const match = TIME_PATTERN.exec(text);
  if (match === null) return err(`'${text}' is not an OCMF time such as 2018-07-24T13:22:04,000+0200 S`);
  const [, y, mo, d, h, mi, s, separator, ms, sign, oh, om, status] = match as unknown as string[];
  const [year, month, day, hour, minute, second, milli] = [y, mo, d, h, mi, s, ms].map(Number) as number[];
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const localMs = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, milli!);
  const check = new Date(localMs);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month! - 1 ||
    check.getUTCDate() !== day ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59 ||
    Number(om) > 59 ||
    Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES
  ) {
    return err(`'${text}' is not a valid date, time or UTC offset`);
  }
  const deviations: Warning[] = [];
  if (separator === '.') {
    deviations.push({
      code: 'TimeSeparator',
      message: `time '${text}' uses '.' where OCMF writes ',' before milliseconds`,
    });
  }
  if (status === undefined) {
    deviations.push({
      code: 'TimeStatusMissing',
      message: `time '${text}' has no synchronisation state (U, I, S or R)`,
    });
  }
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${sign}${oh}:${om}`;
  return ok({
    time: { text, epochMs: localMs - offsetMinutes * 60_000, iso, status: status as OcmfTimeStatus | undefined },
    deviations,
  });
}
