/**
 * The SANDBOX's state on disk as a journal: one JSON line per record as it became (a customer, a saved card, a
 * payment, an idempotency key's outcome), appended when it changes; reading replays the lines, the last line of a
 * record winning.
 *
 * Why not one JSON file of the whole state: rewriting it on every change costs time in proportion to every payment
 * the sandbox has ever seen, synchronously on the node's one thread. After a few thousand payments each hold or
 * capture spent milliseconds serializing the rest; an append costs the changed record only.
 *
 * A crash can cut the last line short: reading ignores an unreadable last line (that change is lost, as an
 * unanswered request is) and rewrites the file compacted, so the next append starts on a fresh line. The file is also
 * compacted when it holds more than twice the lines of the live records. Compaction writes a temporary file and
 * renames it over the journal, so a crash leaves the old or the new one, never half of one.
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const SANDBOX_TABLES = ['customers', 'methods', 'payments', 'idempotency'] as const;
export type SandboxTable = (typeof SANDBOX_TABLES)[number];
export type JournalState = { seq: number } & Record<SandboxTable, Record<string, unknown>>;

/** A journal line: the id counter when written, and one record's current value. */
type JournalLine = { seq: number; t: SandboxTable; id: string; v: unknown };

/** Compaction below this many lines is not worth a rewrite. */
const MIN_LINES_TO_COMPACT = 1000;

export function emptyJournalState<S extends JournalState>(): S {
  return { seq: 0, customers: {}, methods: {}, payments: {}, idempotency: {} } as S;
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
  // Until 2026-11-27 the file was the whole state as one JSON object: read it and rewrite it as a journal.
  if (lines.length === 1) {
    const only = JSON.parse(lines[0] as string, bigintReviver) as Partial<JournalState>;
    if (only.payments && typeof only.payments === 'object' && !('t' in only)) {
      const legacy = { ...emptyJournalState<S>(), ...only } as S;
      compactJournal(path, legacy);
      return legacy;
    }
  }
  const state = emptyJournalState<S>();
  let cutShort = !text.endsWith('\n') && text.length > 0;
  for (const [index, line] of lines.entries()) {
    let entry: JournalLine;
    try {
      entry = JSON.parse(line, bigintReviver) as JournalLine;
    } catch (error) {
      // Only the last line can be cut short by a crash; anything else is a damaged file and must not be guessed at.
      if (index === lines.length - 1) {
        cutShort = true;
        break;
      }
      throw new Error(`SANDBOX state ${path}: line ${index + 1} is not JSON (${(error as Error).message})`);
    }
    if (!SANDBOX_TABLES.includes(entry.t) || typeof entry.id !== 'string') {
      throw new Error(`SANDBOX state ${path}: line ${index + 1} is not a journal record`);
    }
    state[entry.t][entry.id] = entry.v;
    state.seq = Math.max(state.seq, entry.seq);
  }
  const live = SANDBOX_TABLES.reduce((sum, table) => sum + Object.keys(state[table]).length, 0);
  if (cutShort || (lines.length > MIN_LINES_TO_COMPACT && lines.length > 2 * live)) compactJournal(path, state);
  return state;
}

/** Appends the current value of each changed record. */
export function appendJournal(
  path: string,
  state: JournalState,
  changed: Iterable<readonly [SandboxTable, string]>,
): void {
  let text = '';
  for (const [t, id] of changed) {
    const line: JournalLine = { seq: state.seq, t, id, v: state[t][id] };
    text += `${JSON.stringify(line, bigintReplacer)}\n`;
  }
  if (text) appendFileSync(path, text, { mode: 0o600 });
}

/** Rewrites the journal as one line per live record (a temporary file renamed over it). */
export function compactJournal(path: string, state: JournalState): void {
  let text = '';
  for (const t of SANDBOX_TABLES) {
    for (const [id, v] of Object.entries(state[t])) {
      text += `${JSON.stringify({ seq: state.seq, t, id, v } satisfies JournalLine, bigintReplacer)}\n`;
    }
  }
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, path);
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
