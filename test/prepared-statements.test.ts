/**
 * Named prepared statements on PostgreSQL (src/db/prepared-statements.ts): a parameterized statement is prepared
 * once per connection and reused, results are those of the unnamed statement, texts without parameters (several
 * statements, as migrations send) still run, the per-connection limit holds, and VOLTBILL_DATABASE_PREPARED_STATEMENTS
 * off sends nothing named. PostgreSQL only (PGlite runs in the process: nothing to parse over a connection).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../src/db/open-database.ts';
import { useNamedStatements } from '../src/db/prepared-statements.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';

const skip = testBackend !== 'postgres' || postgresSkipReason() !== null;

describe.skipIf(skip)('named prepared statements', () => {
  let url: string;
  const opened: DatabaseHandle[] = [];
  const open = async (namedStatements?: boolean) => {
    const handle = await openDatabase({
      kind: 'postgres',
      url,
      maxConnections: 1,
      ...(namedStatements !== undefined && { namedStatements }),
    });
    opened.push(handle);
    return handle;
  };
  const prepared = async (handle: DatabaseHandle) =>
    (
      await sql<{ statement: string }>`select statement from pg_prepared_statements order by prepare_time`.execute(
        handle.db,
      )
    ).rows.map((r) => r.statement);

  beforeAll(async () => {
    url = (await createTestDatabaseUrl()) as string;
  });
  afterAll(async () => {
    for (const handle of opened) await handle.close();
  });

  it('prepares a parameterized statement once per connection and answers as before', async () => {
    const handle = await open();
    const square = (n: number) => sql<{ n: number }>`select ${n}::int * ${n}::int as n`.execute(handle.db);
    expect((await square(3)).rows).toEqual([{ n: 9 }]);
    expect((await square(12)).rows).toEqual([{ n: 144 }]);
    expect((await square(-5)).rows).toEqual([{ n: 25 }]);
    // One entry for the three executions (plus the listing query itself, which has no parameters: not named).
    expect(await prepared(handle)).toEqual(['select $1::int * $2::int as n']);
    // A text without parameters may hold several statements: it still goes unnamed, through the simple protocol.
    await sql`create table twice (a int); insert into twice values (1), (2)`.execute(handle.db);
    expect((await sql<{ a: number }>`select a from twice where a > ${0} order by a`.execute(handle.db)).rows).toEqual([
      { a: 1 },
      { a: 2 },
    ]);
    expect(await prepared(handle)).toHaveLength(2);
  });

  it('reports a failing statement as before and stays usable', async () => {
    const handle = await open();
    await expect(sql`select 1 / ${0}::int as n`.execute(handle.db)).rejects.toThrow('division by zero');
    await expect(sql`select 1 / ${0}::int as n`.execute(handle.db)).rejects.toThrow('division by zero');
    expect((await sql<{ n: number }>`select 10 / ${2}::int as n`.execute(handle.db)).rows).toEqual([{ n: 5 }]);
  });

  it('a value pg cannot encode does not break the statement on its connection, new or prepared before', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      useNamedStatements(client);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const fresh = 'select $1::jsonb as sent, 1 as fresh';
      await expect(client.query(fresh, [circular])).rejects.toThrow('circular');
      expect((await client.query(fresh, [{ a: 1 }])).rows).toEqual([{ sent: { a: 1 }, fresh: 1 }]);
      const known = 'select $1::jsonb as sent, 2 as known';
      expect((await client.query(known, [{ b: 1 }])).rows).toEqual([{ sent: { b: 1 }, known: 2 }]);
      await expect(client.query(known, [circular])).rejects.toThrow('circular');
      expect((await client.query(known, [{ b: 2 }])).rows).toEqual([{ sent: { b: 2 }, known: 2 }]);
    } finally {
      await client.end();
    }
  });

  it('names at most the limit of texts per connection; beyond it statements go unnamed', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      useNamedStatements(client, { maxStatementsPerConnection: 2, maxTextChars: 20_000 });
      for (let i = 1; i <= 4; i++) {
        const result = await client.query(`select $1::int + ${i} as n`, [10]);
        expect(result.rows).toEqual([{ n: 10 + i }]);
      }
      await client.query('select $1::int + 1 as n', [1]);
      const listed = await client.query('select statement from pg_prepared_statements order by prepare_time');
      expect(listed.rows.map((r) => r.statement)).toEqual(['select $1::int + 1 as n', 'select $1::int + 2 as n']);
    } finally {
      await client.end();
    }
  });

  it('off (VOLTBILL_DATABASE_PREPARED_STATEMENTS=false): nothing is prepared', async () => {
    const handle = await open(false);
    expect((await sql<{ n: number }>`select ${7}::int as n`.execute(handle.db)).rows).toEqual([{ n: 7 }]);
    expect(await prepared(handle)).toEqual([]);
  });
});
