/**
 * A named statement whose value pg cannot encode (a circular object, a bigint inside JSON) is closed by pg itself:
 * pg sends Close for the statement, so the server drops it, and fails the query. But pg still counts the name as
 * prepared (a statement prepared before keeps its mark; a new one is marked by the ParseComplete that still
 * arrives), and every later use of that text on that connection then fails with `prepared statement "vb_N" does
 * not exist`. One bad value would break a statement on one pooled connection for good. This undoes the mark once
 * the query's batch has ended, so the next use parses the statement again.
 */
import type pg from 'pg';

type StatementMarks = {
  parsedStatements: Record<string, string | undefined>;
  submittedNamedStatements: Record<string, string | undefined>;
};

type PatchableQuery = {
  name?: string;
  submit(connection: StatementMarks): Error | null;
  handleError(error: Error, connection: StatementMarks): void;
  handleReadyForQuery(connection: StatementMarks): void;
};

export function forgetStatementClosedByClient(query: pg.Query): void {
  const statement = query as unknown as PatchableQuery;
  const submit = statement.submit.bind(statement);
  const failWith = statement.handleError.bind(statement);
  const finishWith = statement.handleReadyForQuery.bind(statement);
  let submitting = false;
  let closedByClient = false;
  statement.submit = (connection) => {
    submitting = true;
    try {
      return submit(connection);
    } finally {
      submitting = false;
    }
  };
  // pg fails the query from inside submit when it cannot encode a value (lib/query.js prepare); an error from the
  // server comes later, through the client, and leaves the statement as it was.
  statement.handleError = (error, connection) => {
    if (submitting) closedByClient = true;
    failWith(error, connection);
  };
  statement.handleReadyForQuery = (connection) => {
    if (closedByClient && statement.name) {
      delete connection.parsedStatements[statement.name];
      delete connection.submittedNamedStatements[statement.name];
    }
    finishWith(connection);
  };
}
