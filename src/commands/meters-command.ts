/**
 * `voltbill meters due --days N [--json]`: the meters whose calibration lapses within N days (lapsed ones and
 * meters without a calibration date included), across all operators of the configured database. Exit 0 with the
 * list (also when it is empty), 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../db/open-database.ts';
import { localDate } from '../meters/calibration-status.ts';
import { dueWindowEnd, type MeterJson, meterJson } from '../meters/meter-json.ts';
import { listMetersDue } from '../meters/meter-store.ts';

const USAGE = 'usage: voltbill meters due --days N [--json]';
const MAX_DAYS = 3650;

export type MetersCommandDeps = {
  /** Opens the configured database; tests pass their own. */
  readonly open?: () => Promise<DatabaseHandle>;
  readonly now?: () => Date;
};

export async function runMetersCommand(argv: string[], io: CommandIo, deps: MetersCommandDeps = {}): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand !== 'due') {
    io.stderr(
      `voltbill meters: ${subcommand === undefined ? 'missing subcommand' : `unknown subcommand '${subcommand}'`}\n${USAGE}\n`,
    );
    return 2;
  }
  let days: number;
  let json: boolean;
  try {
    const { values } = parseArgs({
      args: rest,
      options: { days: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.days === undefined) throw new Error('--days N is required');
    if (!/^\d{1,4}$/.test(values.days) || Number(values.days) > MAX_DAYS) {
      throw new Error(`--days must be a whole number from 0 to ${MAX_DAYS}, got '${values.days}'`);
    }
    days = Number(values.days);
    json = values.json ?? false;
  } catch (error) {
    io.stderr(`voltbill meters: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const database = await (deps.open ?? openConfiguredDatabase)();
  try {
    await migrateToLatest(database.db);
    const today = localDate((deps.now ?? (() => new Date()))(), 'UTC');
    const until = dueWindowEnd(today, days);
    const meters = (await listMetersDue(database.db, until)).map((row) => meterJson(row, today, days));
    io.stdout(
      json ? `${JSON.stringify({ today, dueUntil: until, meters }, null, 2)}\n` : formatDueMeters(meters, today, until),
    );
    return 0;
  } finally {
    await database.close();
  }
}

async function openConfiguredDatabase(): Promise<DatabaseHandle> {
  const config = loadConfig();
  return openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, namedStatements: config.databasePreparedStatements }
      : { kind: 'pglite', dataDir: config.dataDir, command: 'meters' },
  );
}

/** A plain table, one meter a line, soonest first. */
export function formatDueMeters(meters: readonly MeterJson[], today: string, until: string): string {
  if (meters.length === 0) return `no meter is due for calibration by ${until} (today ${today})\n`;
  const header = ['STATION/EVSE', 'SERIAL', 'VALID UNTIL', 'STATUS', 'DAYS LEFT', 'CERTIFICATE', 'KEY'];
  const rows = meters.map((meter) => [
    `${meter.stationId}/${meter.evseId}`,
    meter.serial,
    meter.calibrationValidUntil ?? '-',
    meter.calibrationStatus,
    meter.daysLeft === null ? '-' : String(meter.daysLeft),
    meter.calibrationCertificateRef ?? '-',
    meter.keySource ?? 'none',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return `${meters.length} meter(s) due for calibration by ${until} (today ${today}):\n${[header, ...rows].map(line).join('\n')}\n`;
}
