/**
 * Keyset pagination over (time desc, id desc): a cursor names the last row of a page, so pages stay stable while
 * new rows arrive. Limits are bounded so that one request cannot ask for a whole table.
 */
import { type SelectQueryBuilder, sql } from 'kysely';
import { ApiError } from '../errors.ts';

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export type Cursor = { at: Date; id: string };

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  const [at, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(date.getTime())) {
    throw new ApiError('InvalidRequest', 'cursor is not one this API returned');
  }
  return { at: date, id };
}

export const pageQuerySchema = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
  cursor: { type: 'string', maxLength: 200 },
  from: { type: 'string', format: 'date-time' },
  to: { type: 'string', format: 'date-time' },
} as const;

export type PageQuery = { limit: number; cursor?: string; from?: string; to?: string };

/**
 * One page's window over (time desc, id desc), the same for every list route: the time range [from, to), the rows
 * after the cursor, the order, and one row more than the page so that the caller knows whether another follows.
 * Columns are given by name (`'created_at'`, `'cdrs.id'`) and referenced as identifiers, never as text.
 */
export function withinPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  columns: { time: string; id: string },
  q: PageQuery,
): SelectQueryBuilder<DB, TB, O> {
  const time = sql.ref(columns.time);
  const id = sql.ref(columns.id);
  let windowed = query;
  if (q.from) windowed = windowed.where(sql<boolean>`${time} >= ${new Date(q.from)}`);
  if (q.to) windowed = windowed.where(sql<boolean>`${time} < ${new Date(q.to)}`);
  if (q.cursor) {
    const cursor = decodeCursor(q.cursor);
    windowed = windowed.where(
      sql<boolean>`(${time} < ${cursor.at} or (${time} = ${cursor.at} and ${id} < ${cursor.id}))`,
    );
  }
  return windowed
    .orderBy(time, 'desc')
    .orderBy(id, 'desc')
    .limit(q.limit + 1);
}

/** The page from `withinPage`'s rows, and the cursor of the next page (null when this is the last). */
export function pageOf<R>(rows: readonly R[], limit: number, cursorOf: (row: R) => Cursor) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
