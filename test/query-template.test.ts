/**
 * Query templates (src/db/query-template.ts): built once, run with new values, the same rows as the query built
 * each time; constants of the builder kept; inside a transaction; a parameter that is not a value of the statement
 * refused when the template is built; and, with VOLTBILL_VERIFY_QUERY_TEMPLATES set (the suite sets it), a builder
 * that looks at its parameters caught on the call whose values build another statement. On both databases.
 */
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { queryTemplate } from '../src/db/query-template.ts';
import { openTestDatabase } from './support/test-database.ts';

/** The test's own table, typed for the builder (the application's schema does not know it). */
type TemplateDb = Kysely<{ template_rows: { id: number; note: string; at: Date | null } }>;
const rowsOf = (db: unknown) => db as TemplateDb;

describe('query templates', () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase();
    await sql`create table template_rows (id int primary key, note text not null, at timestamptz)`.execute(handle.db);
    await sql`insert into template_rows values (1, 'one', '2026-01-01T00:00:00Z'), (2, 'two', null), (3, 'three', null)`.execute(
      handle.db,
    );
  });
  afterAll(async () => {
    await handle.close();
  });

  it('runs with new values and answers as the query built each time', async () => {
    expect(process.env.VOLTBILL_VERIFY_QUERY_TEMPLATES).toBe('1');
    const byId = queryTemplate('byId', ['id', 'note'], (db, p: { id: number; note: string }) =>
      rowsOf(db)
        .selectFrom('template_rows')
        .select(['id', 'note'])
        .where('id', '>=', p.id)
        .where('note', '<>', p.note)
        // A constant of the builder, not a parameter: it stays in place.
        .where('id', '<', 100)
        .orderBy('id'),
    );
    expect(await byId.rows(handle.db, { id: 1, note: 'two' })).toEqual([
      { id: 1, note: 'one' },
      { id: 3, note: 'three' },
    ]);
    expect(await byId.rows(handle.db, { id: 2, note: 'nothing' })).toEqual([
      { id: 2, note: 'two' },
      { id: 3, note: 'three' },
    ]);
    expect(await byId.rows(handle.db, { id: 9, note: 'x' })).toEqual([]);
  });

  it('writes, returns and rolls back inside a transaction; dates and nulls go through', async () => {
    const insert = queryTemplate(
      'insert',
      ['id', 'note', 'at'],
      (db, p: { id: number; note: string; at: Date | null }) =>
        rowsOf(db)
          .insertInto('template_rows')
          .values({ id: p.id, note: p.note, at: p.at })
          .returning(['id', sql<string>`to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')`.as('at')]),
    );
    await expect(
      handle.db.transaction().execute(async (trx) => {
        expect(await insert.rows(trx, { id: 10, note: 'ten', at: new Date('2026-11-27T08:30:00Z') })).toEqual([
          { id: 10, at: '2026-11-27T08:30:00' },
        ]);
        expect(await insert.rows(trx, { id: 11, note: 'eleven', at: null })).toEqual([{ id: 11, at: null }]);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    const left = await sql<{ n: number }>`select count(*)::int as n from template_rows where id >= ${10}`.execute(
      handle.db,
    );
    expect(left.rows).toEqual([{ n: 0 }]);
  });

  it('refuses a parameter that is not a value of the statement', async () => {
    const unused = queryTemplate('unused', ['id', 'forgotten'], (db, p: { id: number; forgotten: string }) =>
      rowsOf(db).selectFrom('template_rows').select('id').where('id', '=', p.id),
    );
    await expect(unused.rows(handle.db, { id: 1, forgotten: 'x' })).rejects.toThrow(
      'query template unused: parameter forgotten is not a value of the statement',
    );
  });

  it('catches a builder that looks at its parameters when the values build another statement', async () => {
    const branching = queryTemplate('branching', ['id', 'note'], (db, p: { id: number; note: string | null }) => {
      const query = rowsOf(db).selectFrom('template_rows').select('id').where('id', '>=', p.id);
      // Wrong in a template: the placeholder is always truthy, so the template has this condition.
      return p.note ? query.where('note', '=', p.note) : query;
    });
    expect(await branching.rows(handle.db, { id: 1, note: 'one' })).toEqual([{ id: 1 }]);
    await expect(branching.rows(handle.db, { id: 1, note: null })).rejects.toThrow(
      'query template branching: the query built from these values differs from the template',
    );
  });
});
