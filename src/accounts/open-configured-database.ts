/**
 * For CLI commands: opens the configured database (migrated) and, when asked, the field cipher, runs the work and
 * closes everything. The embedded database is locked by a running server; the lock error names the remedy.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import { createFieldCipher, type FieldCipher } from '../crypto/field-cipher.ts';
import { loadMasterKeyring } from '../crypto/master-keyring.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openDatabase } from '../db/open-database.ts';
import type { Database } from '../db/schema.ts';

export async function withConfiguredDatabase<T>(
  config: Config,
  command: string,
  work: (db: Kysely<Database>, cipher: () => Promise<FieldCipher>) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, namedStatements: config.databasePreparedStatements }
      : { kind: 'pglite', dataDir: config.dataDir, command },
  );
  try {
    await migrateToLatest(database.db);
    let cipher: Promise<FieldCipher> | undefined;
    return await work(database.db, () => {
      cipher ??= createFieldCipher(database.db, () => loadMasterKeyring(config, new Date()));
      return cipher;
    });
  } finally {
    await database.close();
  }
}

/** The operator a command acts for: the one given, or the only one there is. */
export async function resolveOperator(db: Kysely<Database>, given: string | undefined): Promise<string> {
  if (given) {
    const row = await db.selectFrom('operators').select('id').where('id', '=', given).executeTakeFirst();
    if (!row) throw new UsageError(`no operator ${given}`);
    return row.id;
  }
  const rows = await db.selectFrom('operators').select('id').limit(2).execute();
  if (rows.length === 1) return rows[0]!.id;
  throw new UsageError(
    rows.length === 0
      ? 'no operator exists yet (start the server once to seed one)'
      : 'several operators exist: name one with --operator ID',
  );
}

export class UsageError extends Error {
  override name = 'UsageError';
}
