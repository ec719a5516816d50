/**
 * Named (prepared) statements for the PostgreSQL pool: each connection parses and plans a statement text once and
 * afterwards only binds and executes it. Kysely sends every query unnamed, so PostgreSQL parsed and planned every
 * statement of every request again; for the short statements of the OCPP paths that was a large share of its CPU.
 *
 * Only parameterized statements are named (a text without parameters may hold several statements, which the
 * extended protocol cannot carry: migrations). Limits: at most `maxStatementsPerConnection` texts per connection
 * (queries whose text varies, such as IN lists of varying length, must not grow a connection's memory without bound;
 * beyond the limit statements go unnamed, as before) and texts up to `maxTextChars`.
 *
 * Off for PgBouncer in transaction mode before 1.21 (`VOLTBILL_DATABASE_PREPARED_STATEMENTS=off`): there a named
 * statement prepared on one server connection is not known on the next.
 */
import pg from 'pg';
import { forgetStatementClosedByClient } from './forget-closed-statement.ts';

export type PreparedStatementLimits = {
  readonly maxStatementsPerConnection: number;
  readonly maxTextChars: number;
};

/**
 * The charging paths use about 40 distinct texts (pg_stat_statements over the e2e benchmark); a prepared statement
 * keeps its parse tree (and, once chosen, a generic plan) in the backend's memory, so the limit bounds that memory.
 */
export const PREPARED_STATEMENT_LIMITS: PreparedStatementLimits = {
  maxStatementsPerConnection: 500,
  maxTextChars: 20_000,
};

type QueryFunction = (...args: unknown[]) => unknown;

/** Makes `client` send its parameterized statements named, each text prepared once on its connection. */
export function useNamedStatements(client: pg.ClientBase, limits = PREPARED_STATEMENT_LIMITS): void {
  const query = client.query.bind(client) as QueryFunction;
  // Per client, and a client is one connection: a name only has to be unique on its own connection.
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= limits.maxStatementsPerConnection || text.length > limits.maxTextChars) return undefined;
      name = `vb_${names.size}`;
      names.set(text, name);
    }
    return name;
  };
  (client as unknown as { query: QueryFunction }).query = (...args: unknown[]) => {
    const [text, values, callback] = args;
    // A pg.Query built elsewhere (deferred-begin.ts: a statement sent with its transaction's BEGIN) is named too.
    if (text instanceof pg.Query) {
      const statement = text as pg.Query & { text?: unknown; values?: unknown; name?: string };
      if (statement.name === undefined && typeof statement.text === 'string' && Array.isArray(statement.values)) {
        if (statement.values.length > 0) statement.name = nameOf(statement.text);
        if (statement.name !== undefined) forgetStatementClosedByClient(statement);
      }
      return query(...args);
    }
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) {
      return query(...args);
    }
    const name = nameOf(text);
    if (name === undefined) return query(...args);
    return new Promise((resolve, reject) => {
      let settled = false;
      const statement = new pg.Query({
        text,
        values,
        name,
        // pg may call back twice for one query (a value it cannot encode: the error, then the batch's end).
        callback: (error: Error | null, result: unknown) => {
          if (settled) return;
          settled = true;
          if (error) reject(error);
          else resolve(result);
        },
      } as pg.QueryConfig);
      forgetStatementClosedByClient(statement);
      query(statement);
    });
  };
}
