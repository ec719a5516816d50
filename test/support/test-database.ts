/**
 * A fresh, migrated database for one test file, on the backend the current vitest project names:
 * embedded PGlite in memory, or a new database on the run's PostgreSQL server.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/open-database.ts';

export type TestBackend = 'pglite' | 'postgres';

export const testBackend: TestBackend = process.env.VOLTBILL_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

/** Why the PostgreSQL half is skipped, or null when it runs (use with describe.skipIf). */
export function postgresSkipReason(): string | null {
  return testBackend === 'postgres' ? inject('postgresSkipReason') : null;
}

/** Creates a database for this test file and returns the URL to use (postgres) or 'memory' (pglite). */
export async function createTestDatabaseUrl(): Promise<string | 'memory'> {
  if (testBackend === 'pglite') return 'memory';
  const serverUrl = inject('postgresUrl');
  if (!serverUrl) throw new Error('PostgreSQL server not available');
  const name = `vb_test_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ kind: 'postgres', url: serverUrl, maxConnections: 1 });
  try {
    await sql.raw(`create database ${name}`).execute(admin.db);
  } finally {
    await admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function openTestDatabase(): Promise<DatabaseHandle> {
  const url = await createTestDatabaseUrl();
  const handle =
    url === 'memory'
      ? await openDatabase({ kind: 'pglite', dataDir: 'memory', command: 'test' })
      : await openDatabase({ kind: 'postgres', url });
  await migrateToLatest(handle.db);
  return handle;
}
