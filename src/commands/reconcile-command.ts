/**
 * `voltbill reconcile [--from DATE --to DATE] [--json]`: checks that sessions, CDRs, invoices, ledger and payments
 * agree (src/reconcile/reconcile.ts). Exit 0 when clean, 1 when anything differs, 2 on bad usage. Read-only, so it
 * can run against a replica or a restored backup.
 */
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../db/open-database.ts';
import { reconcile } from '../reconcile/reconcile.ts';
import { formatReconcileReport } from '../reconcile/reconcile-report.ts';
import { systemClock } from '../shared/clock.ts';

export type ReconcileCommandDeps = {
  /** Opens the database to check; default: the configured one. */
  readonly open?: () => Promise<DatabaseHandle>;
};

/** 'YYYY-MM-DD' (midnight UTC) or a full ISO 8601 timestamp with zone. */
export function parseDateArgument(text: string): Date | undefined {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  if (!dateOnly && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const date = new Date(dateOnly ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime())) return undefined;
  if (dateOnly && date.toISOString().slice(0, 10) !== text) return undefined;
  return date;
}

export async function runReconcileCommand(
  argv: string[],
  io: CommandIo,
  deps: ReconcileCommandDeps = {},
): Promise<number> {
  let options: { json: boolean; from?: Date; to?: Date };
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { json: { type: 'boolean', default: false }, from: { type: 'string' }, to: { type: 'string' } },
    });
    const from = values.from === undefined ? undefined : parseDateArgument(values.from);
    const to = values.to === undefined ? undefined : parseDateArgument(values.to);
    if (values.from !== undefined && !from)
      throw new Error(`--from '${values.from}' is not a date (YYYY-MM-DD or ISO 8601)`);
    if (values.to !== undefined && !to) throw new Error(`--to '${values.to}' is not a date (YYYY-MM-DD or ISO 8601)`);
    if (from && to && from.getTime() >= to.getTime()) throw new Error('--from must be before --to');
    options = { json: values.json, ...(from && { from }), ...(to && { to }) };
  } catch (error) {
    io.stderr(
      `voltbill reconcile: ${(error as Error).message}\nusage: voltbill reconcile [--from DATE --to DATE] [--json]\n`,
    );
    return 2;
  }
  const database = deps.open ? await deps.open() : await openConfigured();
  try {
    const report = await reconcile(database.db, systemClock, options);
    io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReconcileReport(report)}\n`);
    return report.clean ? 0 : 1;
  } finally {
    await database.close();
  }
}

async function openConfigured(): Promise<DatabaseHandle> {
  const config = loadConfig();
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, namedStatements: config.databasePreparedStatements }
      : { kind: 'pglite', dataDir: config.dataDir, command: 'reconcile' },
  );
  // An embedded database that was never migrated has nothing to reconcile against; migrating it is harmless.
  if (database.kind === 'pglite') await migrateToLatest(database.db);
  return database;
}
