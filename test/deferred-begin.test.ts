/**
 * BEGIN sent with the transaction's first statement (src/db/deferred-begin.ts): one round trip fewer per
 * transaction, and nothing else changes. The statement runs inside the transaction (its writes roll back), a failing
 * first statement reports its own error and leaves the transaction to the caller's ROLLBACK, a statement new on the
 * connection is prepared once and reused, a Parse error does not leave a name marked as parsed, texts without
 * parameters still run after BEGIN, and an empty transaction sends nothing. PostgreSQL only (PGlite has no protocol).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useDeferredBegin } from '../src/db/deferred-begin.ts';
import { type DatabaseHandle, openDatabase } from '../src/db/open-database.ts';
import { useNamedStatements } from '../src/db/prepared-statements.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';

const skip = testBackend !== 'postgres' || postgresSkipReason() !== null;

/** A client as the pool makes them (named statements, then deferred BEGIN) that counts the batches answered. */
async function connectCounting(url: string, namedStatements = true) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  if (namedStatements) useNamedStatements(client);
  useDeferredBegin(client);
  const counts = { readyForQuery: 0 };
  (client as unknown as { connection: NodeJS.EventEmitter }).connection.on('readyForQuery', () => {
    counts.readyForQuery += 1;
  });
  return { client, counts };
}

describe.skipIf(skip)('BEGIN deferred to the first statement', () => {
  let url: string;
  const clients: pg.Client[] = [];
  const handles: DatabaseHandle[] = [];
  const connect = async (namedStatements = true) => {
    const connected = await connectCounting(url, namedStatements);
    clients.push(connected.client);
    return connected;
  };

  beforeAll(async () => {
    url = (await createTestDatabaseUrl()) as string;
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query('create table deferred_rows (id int primary key, note text not null)');
    await setup.end();
  });
  afterAll(async () => {
    for (const client of clients) await client.end();
    for (const handle of handles) await handle.close();
  });

  it('sends BEGIN and the first statement in one batch; the statement runs inside the transaction', async () => {
    const { client, counts } = await connect();
    expect((await client.query('begin')).command).toBe('BEGIN');
    expect(counts.readyForQuery).toBe(0);
    const first = await client.query('insert into deferred_rows values ($1, $2) returning id, note', [1, 'first']);
    expect(first.rows).toEqual([{ id: 1, note: 'first' }]);
    expect(first.command).toBe('INSERT');
    expect(first.rowCount).toBe(1);
    // One answered batch for BEGIN and the insert together (two without deferral).
    expect(counts.readyForQuery).toBe(1);
    const inside = await client.query(
      `select pg_current_xact_id_if_assigned()::text as xact, (select count(*)::int from deferred_rows where id = $1) as n`,
      [1],
    );
    expect(inside.rows[0].xact).not.toBeNull();
    expect(inside.rows[0].n).toBe(1);
    await client.query('rollback');
    expect((await client.query('select count(*)::int as n from deferred_rows where id = $1', [1])).rows).toEqual([
      { n: 0 },
    ]);
    // Outside a transaction again: nothing held back, no transaction open.
    const after = await client.query('select pg_current_xact_id_if_assigned()::text as xact, $1::int as one', [1]);
    expect(after.rows).toEqual([{ xact: null, one: 1 }]);
  });

  it('a failing first statement reports its own error; the transaction is open and failed until ROLLBACK', async () => {
    const { client } = await connect();
    await client.query('begin');
    await expect(client.query('select 1 / $1::int as n', [0])).rejects.toThrow('division by zero');
    await expect(client.query('select $1::int as n', [1])).rejects.toThrow(
      'current transaction is aborted, commands ignored until end of transaction block',
    );
    expect((await client.query('rollback')).command).toBe('ROLLBACK');
    expect((await client.query('select $1::int as n', [2])).rows).toEqual([{ n: 2 }]);
  });

  it('prepares a statement new on the connection once, with BEGIN, and reuses it', async () => {
    const { client } = await connect();
    for (const id of [10, 11, 12]) {
      await client.query('begin');
      await client.query('insert into deferred_rows values ($1, $2)', [id, 'kept']);
      await client.query('commit');
    }
    const listed = await client.query('select statement from pg_prepared_statements where statement like $1', [
      'insert into deferred_rows%',
    ]);
    expect(listed.rows).toEqual([{ statement: 'insert into deferred_rows values ($1, $2)' }]);
    expect((await client.query('select count(*)::int as n from deferred_rows where note = $1', ['kept'])).rows).toEqual(
      [{ n: 3 }],
    );
  });

  it('a first statement that does not parse leaves no name marked as parsed: the same text fails the same way again', async () => {
    const { client } = await connect();
    for (let attempt = 0; attempt < 2; attempt++) {
      await client.query('begin');
      await expect(client.query('selec $1::int', [1])).rejects.toThrow('syntax error at or near "selec"');
      await client.query('rollback');
    }
    expect((await client.query('select $1::int as n', [3])).rows).toEqual([{ n: 3 }]);
  });

  it('a value that cannot be sent fails the call; the transaction is rolled back and the connection usable', async () => {
    const { client } = await connect();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await client.query('begin');
    await expect(client.query('select $1::jsonb as j', [circular])).rejects.toThrow('circular');
    await client.query('rollback');
    expect((await client.query('select $1::int as n', [4])).rows).toEqual([{ n: 4 }]);
  });

  it('a first statement that fails to parse still opens the transaction: a caller that catches it cannot commit more', async () => {
    const { client } = await connect();
    await client.query('begin');
    await expect(client.query('select $1::int from no_such_table', [1])).rejects.toThrow(
      'relation "no_such_table" does not exist',
    );
    await expect(
      client.query('insert into deferred_rows values ($1, $2)', [40, 'after a caught error']),
    ).rejects.toThrow('current transaction is aborted');
    // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK (Kysely then throws AbortedTransactionError).
    expect((await client.query('commit')).command).toBe('ROLLBACK');
    expect((await client.query('select count(*)::int as n from deferred_rows where id = $1', [40])).rows).toEqual([
      { n: 0 },
    ]);
  });

  it('a value pg cannot send, in a statement new on the connection: the same text runs afterwards', async () => {
    const { client } = await connect();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const text = 'select $1::jsonb as sent';
    await client.query('begin');
    await expect(client.query(text, [circular])).rejects.toThrow('circular');
    await client.query('rollback');
    await client.query('begin');
    expect((await client.query(text, [{ ok: true }])).rows).toEqual([{ sent: { ok: true } }]);
    await client.query('commit');
    expect((await client.query(text, [{ again: 1 }])).rows).toEqual([{ sent: { again: 1 } }]);
  });

  it('a text without parameters after BEGIN is sent after BEGIN is answered, inside the transaction', async () => {
    const { client, counts } = await connect();
    await client.query('begin');
    await client.query(`insert into deferred_rows values (20, 'a'); insert into deferred_rows values (21, 'b')`);
    expect(counts.readyForQuery).toBe(2);
    await client.query('rollback');
    expect((await client.query('select count(*)::int as n from deferred_rows where id >= $1', [20])).rows).toEqual([
      { n: 0 },
    ]);
  });

  it('an empty transaction sends nothing: COMMIT and ROLLBACK are answered without a round trip', async () => {
    const { client, counts } = await connect();
    await client.query('begin');
    expect((await client.query('commit')).command).toBe('COMMIT');
    await client.query('begin');
    expect((await client.query('rollback')).command).toBe('ROLLBACK');
    expect(counts.readyForQuery).toBe(0);
  });

  it('works without named statements (VOLTBILL_DATABASE_PREPARED_STATEMENTS=false)', async () => {
    const { client, counts } = await connect(false);
    await client.query('begin');
    expect((await client.query('select $1::int + 1 as n', [41])).rows).toEqual([{ n: 42 }]);
    await client.query('commit');
    expect(counts.readyForQuery).toBe(2);
    expect((await client.query('select count(*)::int as n from pg_prepared_statements where $1', [true])).rows).toEqual(
      [{ n: 0 }],
    );
  });

  it('through Kysely: a transaction commits its writes, and one that throws rolls back its first statement', async () => {
    const handle = await openDatabase({ kind: 'postgres', url, maxConnections: 1 });
    handles.push(handle);
    await handle.db.transaction().execute(async (trx) => {
      await sql`insert into deferred_rows values (${30}, ${'committed'})`.execute(trx);
      await sql`insert into deferred_rows values (${31}, ${'committed'})`.execute(trx);
    });
    await expect(
      handle.db.transaction().execute(async (trx) => {
        await sql`insert into deferred_rows values (${32}, ${'rolled back'})`.execute(trx);
        throw new Error('the caller gave up');
      }),
    ).rejects.toThrow('the caller gave up');
    // A duplicate key in the first statement: the error is the statement's, and nothing of it stays.
    await expect(
      handle.db.transaction().execute(async (trx) => {
        await sql`insert into deferred_rows values (${30}, ${'duplicate'})`.execute(trx);
      }),
    ).rejects.toThrow('duplicate key value violates unique constraint "deferred_rows_pkey"');
    const rows = await sql<{
      id: number;
      note: string;
    }>`select id, note from deferred_rows where id >= ${30} order by id`.execute(handle.db);
    expect(rows.rows).toEqual([
      { id: 30, note: 'committed' },
      { id: 31, note: 'committed' },
    ]);
  });
});
