/**
 * The append-only log of every OCPP frame received and sent, written in batches. An inbound frame is logged
 * before its reply is sent (handlers await `logged`); outbound frames are queued as they leave.
 */
import type { Kysely } from 'kysely';
import { BatchWriter } from '../db/batch-writer.ts';
import type { Database } from '../db/schema.ts';

export type LoggedFrame = {
  readonly stationId: string;
  readonly direction: 'in' | 'out';
  /** The frame exactly as it travelled. */
  readonly text: string;
  readonly at: Date;
};

type Row = {
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
  const writer = new BatchWriter<Row>(
    async (rows) => {
      await db.insertInto('ocpp_messages').values(rows).execute();
    },
    { maxBatchItems: 1000, maxQueuedItems: 200_000 },
  );
  return {
    append: (frame) => writer.enqueue(toRow(frame)),
    flush: () => writer.flush(),
  };
}

/** Splits a frame into its OCPP-J parts for querying; a frame that is not valid OCPP-J JSON is kept raw. */
export function toRow(frame: LoggedFrame): Row {
  const base = { station_id: frame.stationId, direction: frame.direction, logged_at: frame.at };
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame.text);
  } catch {
    parsed = undefined;
  }
  // PostgreSQL's jsonb cannot hold the NUL character; such a frame is kept as raw text instead.
  const storableAsJson = !frame.text.includes('\\u0000');
  if (storableAsJson && Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
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

function stringifyOrUndefined(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
