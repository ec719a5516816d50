/**
 * The append-only log of every OCPP frame received and sent, written in batches. An inbound frame is logged
 * before its reply is sent (handlers await `logged`); outbound frames are queued as they leave.
 *
 * This is on the path of every message, so it is kept lean: one batch is one INSERT of eight parameters, one per
 * column (`unnest`, see `insertMessageRows`), whose SQL text is the same whatever the batch size (no statement of
 * thousands of placeholders to build, send and plan); the payload is cut out of the frame's text instead of being parsed and serialized again
 * when the frame has the compact shape ocpp-rpc and most stations send (see `payloadSlice`), and stored as text
 * (migration 0013), so that the database does not parse it either.
 */

import { type Kysely, sql } from 'kysely';
import { BatchWriter } from '../db/batch-writer.ts';
import { joinColumns, splitFields } from '../db/joined-text.ts';
import type { Database } from '../db/schema.ts';
import { describeDataException } from './data-error.ts';

export type LoggedFrame = {
  readonly stationId: string;
  readonly direction: 'in' | 'out';
  /** The frame exactly as it travelled. */
  readonly text: string;
  readonly at: Date;
  /** The frame already parsed by the caller (the gateway's frame guard), so that it is not parsed twice. */
  readonly parsed?: unknown;
};

export type LoggedRow = {
  station_id: string;
  direction: 'in' | 'out';
  message_type: number | null;
  message_id: string | null;
  action: string | null;
  payload: string | null;
  raw: string | null;
  logged_at: Date;
};

export type MessageLog = {
  append(frame: LoggedFrame): Promise<void>;
  flush(): Promise<void>;
};

/** Frames larger than this are stored truncated in `raw` (the size limit itself is enforced by the gateway). */
const MAX_LOGGED_TEXT_CHARS = 1_048_576;

export function createMessageLog(db: Kysely<Database>): MessageLog {
  const writer = new BatchWriter<LoggedRow>(
    async (rows) => {
      try {
        await insertMessageRows(db, rows);
      } catch (error) {
        if (describeDataException(error) === undefined) throw error;
        // One frame the database refuses (a value a column cannot hold) must not fail the other stations' frames
        // of its batch: each is stored on its own, and one still refused is kept as raw text.
        for (const row of rows) {
          try {
            await insertMessageRows(db, [row]);
          } catch (rowError) {
            if (describeDataException(rowError) === undefined) throw rowError;
            await insertMessageRows(db, [asRawRow(row)]);
          }
        }
      }
    },
    { maxBatchItems: 1000, maxQueuedItems: 200_000 },
  );
  return {
    append: (frame) => writer.enqueue(toRow(frame)),
    flush: () => writer.flush(),
  };
}

/**
 * One INSERT for the whole batch, whose statement text does not depend on its size: one parameter per column,
 * normally its values joined (src/db/joined-text.ts: no escaping, about half of the node CPU per frame saved), as
 * arrays when a value cannot be joined (a hostile frame kept raw, an odd message id) or when `form` says so (the
 * benchmark's baseline).
 */
export async function insertMessageRows(
  db: Kysely<Database>,
  rows: readonly LoggedRow[],
  form: 'joined' | 'arrays' = 'joined',
): Promise<void> {
  const n = rows.length;
  const stationIds = new Array<string>(n);
  const directions = new Array<string>(n);
  const types = new Array<string | null>(n);
  const ids = new Array<string | null>(n);
  const actions = new Array<string | null>(n);
  const payloads = new Array<string | null>(n);
  const raws = new Array<string | null>(n);
  const ats = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    stationIds[i] = row.station_id;
    directions[i] = row.direction;
    types[i] = row.message_type === null ? null : String(row.message_type);
    ids[i] = row.message_id;
    actions[i] = row.action;
    payloads[i] = row.payload;
    raws[i] = row.raw;
    ats[i] = row.logged_at.toISOString();
  }
  const joined =
    form === 'joined' ? joinColumns([stationIds, directions, types, ids, actions, payloads, raws, ats]) : undefined;
  if (joined) {
    const [stationId, direction, type, id, action, payload, raw, at] = joined.map(splitFields);
    await sql`insert into ocpp_messages (station_id, direction, message_type, message_id, action, payload, raw, logged_at)
      select * from unnest(${stationId}, ${direction}, ${type}::smallint[], ${id}, ${action}, ${payload}, ${raw},
                           ${at}::timestamptz[])`.execute(db);
    return;
  }
  await sql`insert into ocpp_messages (station_id, direction, message_type, message_id, action, payload, raw, logged_at)
    select * from unnest(${stationIds}::text[], ${directions}::text[], ${types}::smallint[], ${ids}::text[],
                         ${actions}::text[], ${payloads}::text[], ${raws}::text[], ${ats}::timestamptz[])`.execute(db);
}

/** A row the database refused as parts, kept as raw text instead (NUL characters replaced). */
function asRawRow(row: LoggedRow): LoggedRow {
  const text = row.raw ?? row.payload ?? '';
  return {
    ...row,
    message_type: null,
    message_id: null,
    action: null,
    payload: null,
    raw: text.slice(0, MAX_LOGGED_TEXT_CHARS).replaceAll('\u0000', '\uFFFD'),
  };
}

/** Splits a frame into its OCPP-J parts for querying; a frame that is not valid OCPP-J JSON is kept raw. */
export function toRow(frame: LoggedFrame): LoggedRow {
  // Only text known to be valid JSON may skip the parser: outbound frames (serialized by ocpp-rpc) and inbound ones
  // the gateway parsed. An inbound frame whose parsed form has exactly the elements the compact header names needs
  // no bracket scan either: then the text after the header is its payload's own text.
  const fast =
    frame.direction === 'out'
      ? payloadSlice(frame.text)
      : frame.parsed !== undefined
        ? payloadSlice(frame.text, compactElementCount(frame.parsed))
        : undefined;
  if (fast) {
    // Built field by field: object spread here cost several microseconds per frame (the profile's largest JS item).
    return {
      station_id: frame.stationId,
      direction: frame.direction,
      message_type: fast.message_type,
      message_id: fast.message_id,
      action: fast.action,
      payload: fast.payload,
      raw: null,
      logged_at: frame.at,
    };
  }
  const base = { station_id: frame.stationId, direction: frame.direction, logged_at: frame.at };
  let parsed: unknown = frame.parsed;
  if (parsed === undefined) {
    try {
      parsed = JSON.parse(frame.text);
    } catch {
      parsed = undefined;
    }
  }
  // The message type id goes into a smallint column: a hostile 2.5 or 1e308 keeps the frame raw.
  if (
    Array.isArray(parsed) &&
    Number.isInteger(parsed[0]) &&
    parsed[0] >= 0 &&
    parsed[0] <= 32_767 &&
    typeof parsed[1] === 'string'
  ) {
    const [type, id] = parsed as [number, string];
    // JSON text of the payload: a call's params, a result, or an error's [code, description, details].
    const payload = type === 2 ? parsed[3] : type === 3 ? parsed[2] : parsed.slice(2);
    const payloadText = stringifyOrUndefined(payload ?? null);
    // A payload that cannot be serialized (nesting deep enough to exhaust the stack) is kept as raw text below.
    if (payloadText !== undefined) {
      return {
        ...base,
        message_type: type,
        message_id: id.slice(0, 36),
        action: type === 2 && typeof parsed[2] === 'string' ? parsed[2].slice(0, 64) : null,
        payload: payloadText,
        raw: null,
      };
    }
  }
  return {
    ...base,
    message_type: null,
    message_id: null,
    action: null,
    payload: null,
    raw: frame.text.slice(0, MAX_LOGGED_TEXT_CHARS).replaceAll('\u0000', '\uFFFD'),
  };
}

/**
 * `[2,"id","Action",{...}]` and `[3,"id",{...}]` written compactly (as ocpp-rpc and most stations write them):
 * the payload is the text between the header and the closing bracket, so it need not be parsed and serialized
 * again. The caller guarantees the text is valid JSON; then a frame whose text is exactly such a header, one JSON
 * object and `]` qualifies, which is checked without a parser: the header by a pattern, the object by balanced
 * brackets outside strings closing at the last character but one, or, when the caller parsed the frame and passes
 * its element count, by that count and a `}` right before the final `]`. Anything else (errors, whitespace,
 * escapes in ids, extra elements) takes the parsing path.
 */
const COMPACT_HEADER = /^\[([23]),"([A-Za-z0-9._:-]{1,36})",(?:"([A-Za-z0-9]{1,64})",)?\{/;

type PayloadParts = Pick<LoggedRow, 'message_type' | 'message_id' | 'action' | 'payload'>;

export function payloadSlice(text: string, elementCount?: number): PayloadParts | undefined {
  const match = COMPACT_HEADER.exec(text.length > 200 ? text.slice(0, 200) : text);
  if (!match) return undefined;
  const type = match[1] === '2' ? 2 : 3;
  const action = match[3];
  if ((type === 2) !== (action !== undefined)) return undefined;
  const start = match[0].length - 1;
  const end = text.length - 1;
  if (text.charCodeAt(end) !== 93 /* ] */) return undefined;
  if (elementCount === undefined ? !isOneObject(text, start, end) : elementCount !== (type === 2 ? 4 : 3))
    return undefined;
  // With the count known, the object must close right before the final bracket (no whitespace between).
  if (elementCount !== undefined && text.charCodeAt(end - 1) !== 125 /* } */) return undefined;
  return {
    message_type: type,
    message_id: match[2]!,
    action: action ?? null,
    payload: text.slice(start, end),
  };
}

/**
 * The element count of a parsed frame whose last element is an object (the payload of a CALL or CALLRESULT), else
 * undefined. With it, `payloadSlice` needs no bracket scan of text the gateway already parsed.
 */
function compactElementCount(parsed: unknown): number | undefined {
  if (!Array.isArray(parsed) || (parsed.length !== 3 && parsed.length !== 4)) return undefined;
  const last: unknown = parsed[parsed.length - 1];
  return typeof last === 'object' && last !== null && !Array.isArray(last) ? parsed.length : undefined;
}

/** Whether text[start, end) is one JSON object by bracket balance outside strings (the gateway parsed the whole frame). */
function isOneObject(text: string, start: number, end: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
      if (depth === 0) return i === end - 1;
      if (depth < 0) return false;
    }
  }
  return false;
}

function stringifyOrUndefined(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
