/**
 * Forward-only SQL migrations from the repository's migrations/ folder, applied by Kysely's migrator (which
 * records them in kysely_migration and holds an advisory lock, so that several nodes starting together apply each
 * migration once). Files are named NNNN_description.sql and run in name order, each in its own transaction.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, type Migration, type MigrationProvider, type MigrationResult, Migrator, sql } from 'kysely';
import type { Database } from './schema.ts';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.folder)).filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name)).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const text = await readFile(path.join(this.folder, file), 'utf8');
      migrations[file.replace(/\.sql$/, '')] = {
        up: async (db) => {
          await sql.raw(text).execute(db);
        },
      };
    }
    return migrations;
  }
}

export type MigrationReport = { applied: string[]; alreadyApplied: number };

export class MigrationFailed extends Error {
  override name = 'MigrationFailed';
}

/** Applies every pending migration; throws MigrationFailed naming the file that failed and why. */
export async function migrateToLatest(db: Kysely<Database>, folder = MIGRATIONS_DIR): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider(folder) });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r: MigrationResult) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new MigrationFailed(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`);
  }
  const all = await migrator.getMigrations();
  const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  return { applied, alreadyApplied: all.filter((m) => m.executedAt).length - applied.length };
}
