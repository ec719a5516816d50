/**
 * The SANDBOX's state on disk as a journal: one JSON line per change, holding the records it changed as they became
 * (a customer, a saved card, a payment, an idempotency key's outcome); reading replays the lines, the last value of
 * a record winning.
 *
 * Why not one JSON file of the whole state: rewriting it on every change costs time in proportion to every payment
 * the sandbox has ever seen, synchronously on the node's one thread (57 ms per hold and capture after 3,500
 * payments). An append costs the changed records only.
 *
 * One change is one line, so it is kept or lost whole: an idempotency key never survives without the payment it
 * names. A crash can cut the last line short: reading drops it (that change is lost, as an unanswered request is)
 * and rewrites the file compacted, so the next append starts on a fresh line. An append that fails (a full disk)
 * cuts the file back to where it was, so no partial line is left in the middle. The file is compacted when it is
 * opened and holds more than 1,000 lines and more than twice its live records. Compaction writes a temporary file,
 * flushes it to disk and renames it over the journal, so a crash leaves the old or the new one, never half of one.
 * Appends are not flushed to disk one by one: they survive the process's crash, not a power loss (a stand-in for
 * a card network, not a ledger).
 */
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export const SANDBOX_TABLES = ['customers', 'methods', 'payments', 'idempotency'] as const;
export type SandboxTable = (typeof SANDBOX_TABLES)[number];
export type JournalState = { seq: number } & Record<SandboxTable, Record<string, unknown>>;
export type JournalChange = readonly [SandboxTable, string];

/** A journal line: the id counter when written, and the changed records' current values. */
type JournalLine = { seq: number; r: [SandboxTable, string, unknown][] };

/** Compaction below this many lines is not worth a rewrite. */
const MIN_LINES_TO_COMPACT = 1000;

export type Journal<S extends JournalState> = {
  readonly state: S;
  /** Appends one line with the current value of each changed record; on failure the file is as it was. */
  append(changed: Iterable<JournalChange>): void;
};

export type JournalFiles = { appendFile: (path: string, text: string) => void };
const NODE_FILES: JournalFiles = { appendFile: (path, text) => appendFileSync(path, text, { mode: 0o600 }) };

export function emptyJournalState<S extends JournalState>(): S {
  return { seq: 0, customers: {}, methods: {}, payments: {}, idempotency: {} } as S;
}

/** Opens the journal at `path` (an empty state when there is no file), compacting it when that is due. */
export function openJournal<S extends JournalState>(path: string, files: JournalFiles = NODE_FILES): Journal<S> {
  const state = loadJournal<S>(path);
  let size = fileSize(path);
  return {
    state,
    append(changed) {
      const line: JournalLine = { seq: state.seq, r: [] };
      for (const [t, id] of changed) line.r.push([t, id, state[t][id]]);
      if (line.r.length === 0) return;
      const text = `${JSON.stringify(line, bigintReplacer)}\n`;
      try {
        files.appendFile(path, text);
      } catch (error) {
        // A partial line left here would sit in the middle of the file after the next append, where reading must
        // refuse it: cut it off. If even that fails, the next start says which line is damaged.
        try {
          truncateSync(path, size);
        } catch {}
        throw error;
      }
      size += Buffer.byteLength(text);
    },
  };
}

/** Reads the state at `path` (empty when there is no file), compacting the file when it is due. */
export function loadJournal<S extends JournalState>(path: string): S {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyJournalState<S>();
    throw error;
  }
  const lines = text.split('\n').filter((line) => line.length > 0);
  const legacy = lines.length === 1 ? legacyState<S>(lines[0] as string) : undefined;
  if (legacy) {
    compactJournal(path, legacy);
    return legacy;
  }
  const state = emptyJournalState<S>();
  let cutShort = text.length > 0 && !text.endsWith('\n');
  for (const [index, text] of lines.entries()) {
    let line: JournalLine;
    try {
      line = JSON.parse(text, bigintReviver) as JournalLine;
    } catch (error) {
      // Only the last line can be cut short by a crash; anything else is a damaged file and must not be guessed at.
      if (index === lines.length - 1) {
        cutShort = true;
        break;
      }
      throw new Error(`SANDBOX state ${path}: line ${index + 1} is not JSON (${(error as Error).message})`);
    }
    if (!isJournalLine(line)) throw new Error(`SANDBOX state ${path}: line ${index + 1} is not a journal record`);
    for (const [t, id, v] of line.r) state[t][id] = v;
    state.seq = Math.max(state.seq, line.seq);
  }
  const live = SANDBOX_TABLES.reduce((sum, table) => sum + Object.keys(state[table]).length, 0);
  if (cutShort || (lines.length > MIN_LINES_TO_COMPACT && lines.length > 2 * live)) compactJournal(path, state);
  return state;
}

/** Rewrites the journal as one line per live record: a fresh temporary file, flushed, renamed over it. */
export function compactJournal(path: string, state: JournalState): void {
  let text = '';
  for (const t of SANDBOX_TABLES) {
    for (const [id, v] of Object.entries(state[t])) {
      text += `${JSON.stringify({ seq: state.seq, r: [[t, id, v]] } satisfies JournalLine, bigintReplacer)}\n`;
    }
  }
  const temporary = `${path}.tmp`;
  // A leftover temporary file (a crash during an earlier compaction) may have other permissions: never reuse it.
  rmSync(temporary, { force: true });
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

/** Until 2026-11-27 the file was the whole state as one JSON object; undefined for anything else. */
function legacyState<S extends JournalState>(line: string): S | undefined {
  let only: unknown;
  try {
    only = JSON.parse(line, bigintReviver);
  } catch {
    return undefined;
  }
  if (!only || typeof only !== 'object' || 'r' in only || !('payments' in only)) return undefined;
  return { ...emptyJournalState<S>(), ...(only as Partial<S>) };
}

function isJournalLine(line: unknown): line is JournalLine {
  if (!line || typeof line !== 'object') return false;
  const { seq, r } = line as Partial<JournalLine>;
  return (
    typeof seq === 'number' &&
    Array.isArray(r) &&
    r.every(
      (record) =>
        Array.isArray(record) && SANDBOX_TABLES.includes(record[0] as SandboxTable) && typeof record[1] === 'string',
    )
  );
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** Stored outcomes hold bigint amounts: kept as {"$bigint": "123"} in the file. */
function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
}

function bigintReviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && typeof (value as { $bigint?: unknown }).$bigint === 'string') {
    return BigInt((value as { $bigint: string }).$bigint);
  }
  return value;
}
