/**
 * BEGIN sent with the transaction's first statement, in the same write, instead of as a round trip of its own.
 * Kysely opens a transaction with `begin` and waits for its answer before the first statement; on PostgreSQL every
 * round trip costs the node a socket write (profiles: `writev` was a fifth of the node's CPU on the paid-session
 * path) and the backend a wake-up, and a paid session ran 2.5 transactions. Npgsql does the same: its
 * BeginTransaction sends nothing and prepends BEGIN to the next command.
 *
 * How: `begin` is answered at once (nothing is sent) and remembered. The next parameterized statement goes out as one
 * extended-protocol batch without a Sync in between: Parse/Bind/Execute of `begin`, then [Parse,] Bind/Describe/
 * Execute of the statement, Sync. PostgreSQL runs them in order, so the
 * statement runs inside the transaction exactly as before; one ReadyForQuery ends the batch. If the statement fails,
 * the transaction is already open and in the failed state, as before, and the caller's ROLLBACK ends it.
 *
 * Other cases keep the old order, BEGIN first: a text without parameters (it may hold several statements, which the
 * extended protocol cannot carry) or any other form of call waits for BEGIN's answer before it is sent. A
 * transaction that sends no statement at all sends nothing: its COMMIT or ROLLBACK is answered at once too.
 *
 * Only the exact text `begin` (Kysely's for a transaction without isolation or access settings) is deferred:
 * `start transaction isolation level ...` goes out as before.
 */
import pg from 'pg';

type QueryFunction = (...args: unknown[]) => unknown;

type QueryResultLike = { command: string; rowCount: number | null; rows: unknown[]; fields: unknown[] };

/** What pg's Connection offers a submittable (lib/connection.js); @types/pg does not declare these. */
type ProtocolConnection = {
  stream: { cork?: () => void; uncork?: () => void };
  parse(message: { text: string; name?: string; types?: unknown[] }): void;
  bind(message: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(message: { portal?: string; rows?: number }): void;
  parsedStatements: Record<string, string | undefined>;
  submittedNamedStatements: Record<string, string | undefined>;
  on(event: 'parseComplete', listener: () => void): void;
  removeListener(event: 'parseComplete', listener: () => void): void;
};

/** The pg.Query methods this file wraps (lib/query.js); @types/pg declares submit only. */
type InternalQuery = {
  name?: string;
  text: string;
  types?: unknown[];
  submit(connection: ProtocolConnection): Error | null;
  handleCommandComplete(message: unknown, connection: ProtocolConnection): void;
  handleError(error: Error, connection: ProtocolConnection): void;
  handleReadyForQuery(connection: ProtocolConnection): void;
};

const answered = (command: string): QueryResultLike => ({ command, rowCount: null, rows: [], fields: [] });

/**
 * A pg.Query for `text` that first opens the transaction. Its callback sees only the statement's result: BEGIN's
 * CommandComplete, always the first of the batch, is not counted as a result of its own.
 */
export function statementAfterBegin(
  text: string,
  values: unknown[],
  callback: (error: Error | null, result?: unknown) => void,
): pg.Query {
  const query = new pg.Query({ text, values, callback } as pg.QueryConfig);
  const statement = query as unknown as InternalQuery;
  const submitStatement = statement.submit.bind(statement);
  const completeCommand = statement.handleCommandComplete.bind(statement);
  const failWith = statement.handleError.bind(statement);
  const finishWith = statement.handleReadyForQuery.bind(statement);
  let beginCompleted = false;
  // A statement new on this connection is parsed in the batch, after BEGIN. pg marks the active query's name as
  // parsed on every ParseComplete, BEGIN's included, so when the statement's own Parse fails, that mark is undone:
  // the next use parses it again.
  let parsesOwn = false;
  let parseCompletes = 0;
  let submitting = false;
  let connectionOfBatch: ProtocolConnection | undefined;
  const countParse = () => {
    parseCompletes += 1;
  };
  const unmark = () => {
    const name = statement.name;
    if (!name || connectionOfBatch === undefined) return;
    delete connectionOfBatch.parsedStatements[name];
    delete connectionOfBatch.submittedNamedStatements[name];
  };
  const stopCounting = () => connectionOfBatch?.removeListener('parseComplete', countParse);
  statement.submit = (connection) => {
    connectionOfBatch = connection;
    const name = statement.name;
    parsesOwn = Boolean(
      name &&
        connection.parsedStatements[name] === undefined &&
        connection.submittedNamedStatements[name] === undefined,
    );
    if (parsesOwn) connection.on('parseComplete', countParse);
    connection.stream.cork?.();
    try {
      // BEGIN first, always: whatever happens to the statement then happens inside the transaction, as without
      // deferral (a failed statement leaves the transaction open and failed until the caller's ROLLBACK).
      connection.parse({ text: 'begin' });
      connection.bind({});
      connection.execute({});
      submitting = true;
      return submitStatement(connection);
    } finally {
      submitting = false;
      connection.stream.uncork?.();
    }
  };
  statement.handleCommandComplete = (message, connection) => {
    if (!beginCompleted) {
      beginCompleted = true;
      return;
    }
    completeCommand(message, connection);
  };
  statement.handleError = (error, connection) => {
    // An error from the server ends this query here (pg drops it as the active query); BEGIN's ParseComplete and,
    // if it parsed, the statement's own came before it. (A value pg cannot encode fails the query inside submit:
    // prepared-statements.ts undoes that statement's mark at the batch's end, forget-closed-statement.ts.)
    if (!submitting) {
      if (parsesOwn && parseCompletes < 2) unmark();
      stopCounting();
    }
    failWith(error, connection);
  };
  statement.handleReadyForQuery = (connection) => {
    stopCounting();
    finishWith(connection);
  };
  return query;
}

/**
 * Makes `client` defer `begin` to its transaction's first statement. Install after useNamedStatements, so that the
 * combined statement is named like any other (that layer names a pg.Query it is handed).
 */
export function useDeferredBegin(client: pg.ClientBase): void {
  const query = client.query.bind(client) as QueryFunction;
  let beginPending = false;
  (client as unknown as { query: QueryFunction }).query = (...args: unknown[]) => {
    const [text, values, callback] = args;
    const promiseForm =
      typeof text === 'string' && (values === undefined || Array.isArray(values)) && callback === undefined;
    if (!beginPending) {
      if (promiseForm && text === 'begin' && (values === undefined || (values as unknown[]).length === 0)) {
        beginPending = true;
        return Promise.resolve(answered('BEGIN'));
      }
      return query(...args);
    }
    beginPending = false;
    if (promiseForm && (values === undefined || (values as unknown[]).length === 0)) {
      // Nothing was sent for this transaction: there is nothing to commit or roll back either.
      if (text === 'commit') return Promise.resolve(answered('COMMIT'));
      if (text === 'rollback') return Promise.resolve(answered('ROLLBACK'));
    }
    if (promiseForm && Array.isArray(values) && values.length > 0) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const statement = statementAfterBegin(text as string, values, (error, result) => {
          if (settled) return;
          settled = true;
          if (error) reject(error);
          else resolve(result);
        });
        query(statement);
      });
    }
    // Any other call: BEGIN first, answered, then the call, as without deferral.
    return (query('begin') as Promise<unknown>).then(() => query(...args));
  };
}
