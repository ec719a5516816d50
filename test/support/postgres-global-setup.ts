/**
 * Vitest global setup of the 'postgres' project: one PostgreSQL server for the run, started from the machine's
 * binaries and removed afterwards. Each test file creates its own database on it (see test-database.ts).
 * Without PostgreSQL binaries the PostgreSQL half is skipped LOUDLY (a banner here and a skipped suite in the
 * report); with VOLTBILL_REQUIRE_POSTGRES=1 (set by CI) it fails instead.
 */
import type { TestProject } from 'vitest/node';
import { findPostgresBinaries, type PostgresServer, startPostgres } from './postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
    postgresSkipReason: string | null;
  }
}

let server: PostgresServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const found = findPostgresBinaries();
  if ('missing' in found) {
    if (process.env.VOLTBILL_REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL is required: ${found.missing}`);
    const banner = '!'.repeat(100);
    console.warn(`\n${banner}\n!! POSTGRESQL TESTS SKIPPED: ${found.missing}\n${banner}\n`);
    project.provide('postgresUrl', null);
    project.provide('postgresSkipReason', found.missing);
    return;
  }
  server = await startPostgres();
  project.provide('postgresUrl', server.url);
  project.provide('postgresSkipReason', null);
}

export async function teardown(): Promise<void> {
  server?.stop();
}
