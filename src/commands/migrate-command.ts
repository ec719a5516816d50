import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openDatabase } from '../db/open-database.ts';

/** `voltbill migrate`: applies pending migrations to the configured database and says which. */
export async function runMigrateCommand(argv: string[], io: CommandIo): Promise<number> {
  try {
    parseArgs({ args: argv, options: {}, strict: true });
  } catch (error) {
    io.stderr(`voltbill migrate: ${(error as Error).message}\n`);
    return 2;
  }
  const config = loadConfig();
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, namedStatements: config.databasePreparedStatements }
      : { kind: 'pglite', dataDir: config.dataDir, command: 'migrate' },
  );
  try {
    const report = await migrateToLatest(database.db);
    io.stdout(
      report.applied.length > 0
        ? `applied ${report.applied.length} migration(s) to ${database.location}: ${report.applied.join(', ')}\n`
        : `${database.location} is up to date (${report.alreadyApplied} migration(s) applied before)\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
