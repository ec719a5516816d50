/**
 * A Kysely query built and compiled once, then run with new parameters. Kysely builds an immutable tree for every
 * query and compiles it to SQL on every call; for the wide joins of the charging paths that was about a tenth of the
 * node's CPU per paid session (profile of bench/paid-session-cost.ts: 8.5 % of the samples in Kysely's builders and
 * compiler). A template builds its query once, with a placeholder for each parameter, and keeps the SQL text and
 * where each placeholder landed among the statement's parameters; a call only fills them in.
 *
 * The rule that makes this correct: the builder must not look at its parameters, only pass them on as values
 * (`where(col, '=', p.id)`, `values({ col: p.x })`, sql`${p.y}`). A builder that branches on a parameter, spreads an
 * array into an IN list or leaves out an undefined column would build a different statement for other values. Two
 * checks: every parameter must land in the statement (checked when the template is built), and when
 * `VOLTBILL_VERIFY_QUERY_TEMPLATES` is set (the test suite sets it) every call also builds the query from the real
 * values and throws unless it compiles to exactly the template's text and parameters.
 */
import { type Compilable, CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

type TemplateScalar = string | number | bigint | boolean | Date | null;

/**
 * What a template parameter may carry: a scalar, or an array passed as one value (sql`${ids}::uuid[]`, for unnest
 * or `= any(...)`), never spread into an IN list (that would change the statement with the array's length: the
 * check of every call catches it).
 */
export type TemplateValue = TemplateScalar | readonly TemplateScalar[];

type TemplateParams = Record<string, TemplateValue>;

/** The placeholder handed to the builder in place of a parameter's value. */
class TemplateSlot {
  constructor(readonly key: string) {}
}

type Compiled = {
  readonly sql: string;
  /** For each of the statement's parameters: the template parameter it takes, or a constant of the builder. */
  readonly parameters: readonly ({ readonly key: string } | { readonly constant: unknown })[];
};

export type QueryTemplate<P extends TemplateParams, Row> = {
  /** The statement's rows (none for a write without RETURNING). */
  rows(db: Kysely<Database>, params: P): Promise<Row[]>;
};

const verifyEveryCall = (): boolean => Boolean(process.env.VOLTBILL_VERIFY_QUERY_TEMPLATES);

export function queryTemplate<P extends TemplateParams, Row>(
  name: string,
  keys: readonly (keyof P & string)[],
  build: (db: Kysely<Database>, params: P) => Compilable<Row>,
): QueryTemplate<P, Row> {
  let compiled: Compiled | undefined;
  const compile = (db: Kysely<Database>): Compiled => {
    const slots = Object.fromEntries(keys.map((key) => [key, new TemplateSlot(key)])) as unknown as P;
    // Without plugins: the statement runs as compiled here, never through a plugin (Voltbill's database has none;
    // a test's capturing plugin sees each call through the check below).
    const query = build(db.withoutPlugins(), slots).compile();
    const parameters = query.parameters.map((value) =>
      value instanceof TemplateSlot ? { key: value.key } : { constant: value },
    );
    for (const key of keys) {
      if (!parameters.some((parameter) => 'key' in parameter && parameter.key === key)) {
        throw new Error(`query template ${name}: parameter ${key} is not a value of the statement`);
      }
    }
    return { sql: query.sql, parameters };
  };
  return {
    async rows(db, params) {
      compiled ??= compile(db);
      const parameters = compiled.parameters.map((parameter) =>
        'key' in parameter ? params[parameter.key] : parameter.constant,
      );
      if (verifyEveryCall()) verify(name, compiled.sql, parameters, build(db, params).compile());
      const result = await db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, parameters));
      return result.rows;
    },
  };
}

function verify(name: string, sql: string, parameters: readonly unknown[], built: CompiledQuery): void {
  const same =
    built.sql === sql &&
    built.parameters.length === parameters.length &&
    built.parameters.every((value, i) => sameValue(value, parameters[i]));
  if (!same) {
    throw new Error(
      `query template ${name}: the query built from these values differs from the template ` +
        `(the builder must not look at its parameters):\n${built.sql}\n${sql}`,
    );
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return Object.is(a, b);
}
