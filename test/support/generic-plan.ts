/**
 * Plans of prepared statements, for tests that guard how a hot statement is executed. Our PostgreSQL pool prepares
 * its statements (src/db/prepared-statements.ts), and after five runs PostgreSQL may keep a generic plan, made
 * without the parameters' values (nor the arrays' sizes): the plan a busy node runs, and the one these helpers show.
 */
import {
  type CompiledQuery,
  createQueryId,
  type Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
} from 'kysely';
import type { Database } from '../../src/db/schema.ts';

/** Every statement `run` executes through the database it is given, compiled as the dialect sends it. */
export async function statementsOf(
  db: Kysely<Database>,
  run: (db: Kysely<Database>) => Promise<unknown>,
): Promise<CompiledQuery[]> {
  const nodes: RootOperationNode[] = [];
  const capture: KyselyPlugin = {
    transformQuery: (args: PluginTransformQueryArgs) => {
      nodes.push(args.node);
      return args.node;
    },
    transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => args.result,
  };
  await run(db.withPlugin(capture));
  return nodes.map((node) => db.getExecutor().compileQuery(node, createQueryId()));
}

/** PostgreSQL's generic plan of `statement` (EXPLAIN, costs off), one line per plan node. */
export async function genericPlanOf(db: Kysely<Database>, statement: CompiledQuery): Promise<string> {
  return db.connection().execute(async (connection) => {
    await sql.raw(`prepare vb_plan_under_test as ${statement.sql}`).execute(connection);
    try {
      await sql`set plan_cache_mode = force_generic_plan`.execute(connection);
      // A generic plan does not depend on the values: nulls stand in for every parameter.
      const nulls = statement.parameters.map(() => 'null').join(', ');
      const explained = await sql
        .raw<Record<string, string>>(`explain (costs off) execute vb_plan_under_test(${nulls})`)
        .execute(connection);
      return explained.rows.map((row) => Object.values(row)[0]).join('\n');
    } finally {
      await sql`reset plan_cache_mode`.execute(connection);
      await sql`deallocate vb_plan_under_test`.execute(connection);
    }
  });
}
