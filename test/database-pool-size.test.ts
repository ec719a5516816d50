/**
 * VOLTBILL_DATABASE_POOL_SIZE bounds the connections a `voltbill serve` node opens to PostgreSQL: 24 statements
 * started at once through the node's database run on at most that many connections (the others queue in the pool),
 * and the default lets more run at once. PostgreSQL only (the embedded database has no connections).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const skip = testBackend !== 'postgres' || postgresSkipReason() !== null;

describe.skipIf(skip)('VOLTBILL_DATABASE_POOL_SIZE', () => {
  let url: string;
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    url = (await createTestDatabaseUrl()) as string;
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  /** The most backends that ran one of the node's `pg_sleep` statements at the same moment. */
  async function mostConcurrentStatements(poolSize: string | undefined): Promise<number> {
    const server = await startTestServer({
      VOLTBILL_RECONCILE_INTERVAL_S: '0',
      ...(poolSize !== undefined && { VOLTBILL_DATABASE_POOL_SIZE: poolSize }),
    });
    servers.push(server);
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    try {
      let most = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const { rows } = await watcher.query<{ n: number }>(
            // The whole PostgreSQL server: the marker text is this test's alone.
            `select count(*)::int as n from pg_stat_activity where query like $1 and state = 'active'`,
            ['select pg_sleep(%) as slept, % as marker'],
          );
          most = Math.max(most, rows[0]?.n ?? 0);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          sql`select pg_sleep(${0.15}) as slept, ${i} as marker`.execute(server.database.db),
        ),
      );
      watching = false;
      await watch;
      return most;
    } finally {
      await watcher.end();
      await server.close();
      servers.splice(servers.indexOf(server), 1);
    }
  }

  it('runs at most the pool size of statements at once; the default (10) runs more', async () => {
    expect(await mostConcurrentStatements('3')).toBe(3);
    expect(await mostConcurrentStatements(undefined)).toBe(10);
  }, 60_000);
});
