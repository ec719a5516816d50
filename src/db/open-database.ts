/**
 * Opens Voltbill's database: embedded PGlite in a data folder (the zero-setup default) or a PostgreSQL server
 * when a URL is given. Both speak the same SQL through the same Kysely schema, and both return int8 as bigint,
 * numeric as exact strings and dates as strings, so that no value silently loses precision on either backend.
 */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts';
import { useDeferredBegin } from './deferred-begin.ts';
import { createPgliteDialect } from './pglite-dialect.ts';
import { useNamedStatements } from './prepared-statements.ts';
import type { Database } from './schema.ts';

export type DatabaseKind = 'pglite' | 'postgres';

export type DatabaseHandle = {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseKind;
  /** Where the data lives, for messages: the folder or the server URL without its password. */
  readonly location: string;
  close(): Promise<void>;
};

export type OpenDatabaseOptions =
  | { kind: 'pglite'; dataDir: string | 'memory'; command: string }
  | {
      kind: 'postgres';
      url: string;
      maxConnections?: number;
      /** Named prepared statements (default true; see prepared-statements.ts). */
      namedStatements?: boolean;
    };

const INT8_OID = 20;
const DATE_OID = 1082;

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.kind === 'pglite') return openPglite(options.dataDir, options.command);
  return openPostgres(options.url, options.maxConnections ?? 10, options.namedStatements ?? true);
}

async function openPglite(dataDir: string | 'memory', command: string): Promise<DatabaseHandle> {
  const lock: DataDirLock | undefined = dataDir === 'memory' ? undefined : lockDataDir(dataDir, command);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir === 'memory' ? undefined : `${dataDir}/pgdata`, {
      parsers: { [INT8_OID]: (value: string) => BigInt(value), [DATE_OID]: (value: string) => value },
    });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: createPgliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    location: dataDir === 'memory' ? 'memory' : dataDir,
    async close() {
      await db.destroy();
      await pglite.close();
      lock?.release();
    },
  };
}

async function openPostgres(url: string, maxConnections: number, namedStatements: boolean): Promise<DatabaseHandle> {
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID) return (value: string) => BigInt(value);
      if (oid === DATE_OID) return (value: string) => value;
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, types });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // A checked-out client (inside a transaction, between two queries) whose connection drops emits 'error' on the
  // client, not the pool: without a listener that is an uncaught exception that kills the whole server when
  // PostgreSQL restarts. The transaction's next query fails instead (the stop is retried by the station), and the
  // pool discards the dead client when it is released.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    if (namedStatements) useNamedStatements(client);
    useDeferredBegin(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    location: redactUrl(url),
    async close() {
      await db.destroy();
    },
  };
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres';
  }
}
