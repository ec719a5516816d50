/**
 * `voltbill stations add|list|show|remove|set-password|command`: register stations with their OCPP security
 * profile and password, inspect and remove them, and send remote commands to a connected station through a
 * running node's API. Works on the configured database directly (like `voltbill migrate`), except `command`,
 * which needs the node that holds the station's socket.
 */
import { parseArgs } from 'node:util';
import type { Transaction } from 'kysely';
import { appendAudit } from '../audit/append-audit.ts';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../db/open-database.ts';
import type { Database, StationRow } from '../db/schema.ts';
import {
  addStation,
  listStations,
  onlyOperatorId,
  removeStation,
  type StationSummary,
  setStationCredentials,
  showStation,
} from '../ocpp/station-registry.ts';

export const STATIONS_USAGE = `usage:
  voltbill stations add --id ID [--security-profile 0|1|2|3] [--password P] [--operator UUID] [--location UUID]
                        [--evses N] [--json]
      profile 1 (default): HTTP Basic auth over ws://; 2: TLS + Basic auth; 3: mutual TLS (client certificate
      with CN = ID). Profiles 1 and 2 without --password get a generated one, printed once.
  voltbill stations list [--json]
  voltbill stations show ID [--json]
  voltbill stations set-password ID [--password P] [--security-profile N]
  voltbill stations remove ID
  voltbill stations command ID COMMAND [--params JSON] --api-url URL --api-key KEY
      COMMAND: remote-start, remote-stop, reset, change-availability, unlock-connector, trigger-message,
      get-configuration, change-configuration, get-local-list-version, send-local-list, set-password`;

export type StationsCommandDeps = {
  /** Opens the database; default: the configured one (migrated). */
  readonly open?: () => Promise<DatabaseHandle>;
  readonly fetch?: typeof fetch;
  /** Time of audit entries; default: now. */
  readonly now?: () => Date;
};

export async function runStationsCommand(
  argv: string[],
  io: CommandIo,
  deps: StationsCommandDeps = {},
): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (error) {
    io.stderr(`voltbill stations: ${(error as Error).message}\n${STATIONS_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const usage = (message: string) => {
    io.stderr(`voltbill stations: ${message}\n${STATIONS_USAGE}\n`);
    return 2;
  };
  if (sub === 'command') return runRemoteCommand(positionals, values, io, deps.fetch ?? fetch, usage);
  if (!['add', 'list', 'show', 'remove', 'set-password'].includes(sub ?? '')) {
    return usage(sub ? `unknown subcommand '${sub}'` : 'name a subcommand');
  }
  const profile = values['security-profile'] === undefined ? undefined : Number(values['security-profile']);
  if (profile !== undefined && ![0, 1, 2, 3].includes(profile)) return usage('--security-profile is 0, 1, 2 or 3');
  const stationId = sub === 'add' ? values.id : positionals[0];
  if (sub !== 'list' && !stationId) return usage(sub === 'add' ? '--id is required' : 'name the station id');

  const now = deps.now ?? (() => new Date());
  const database = await (deps.open ?? openConfigured)();
  try {
    const db = database.db;
    switch (sub) {
      case 'add': {
        const operatorId = values.operator ?? (await onlyOperatorId(db));
        if (!operatorId) return usage('there is not exactly one operator: pass --operator');
        const evses = values.evses === undefined ? 1 : Number(values.evses);
        if (!Number.isInteger(evses) || evses < 1 || evses > 100) return usage('--evses is 1 to 100');
        // The station and its audit entry (actor 'cli', never the password) commit together.
        const added = await db
          .transaction()
          .execute(async (trx) => {
            const result = await addStation(trx, {
              id: stationId as string,
              operatorId,
              securityProfile: profile ?? 1,
              evseCount: evses,
              ...(values.password !== undefined && { password: values.password }),
              ...(values.location !== undefined && { locationId: values.location }),
            });
            if (!result.ok) throw new RegistryRefusal(result);
            const row = await stationRow(trx, stationId as string);
            await auditStation(trx, now(), row, 'station.create', {
              after: {
                ...stationAuditJson(row),
                evseCount: evses,
                passwordGenerated: result.value.password !== undefined,
              },
            });
            return result;
          })
          .catch(refusalResult);
        if (!added.ok) {
          io.stderr(`voltbill stations add: ${added.error.message}\n`);
          return added.error.code === 'StationExists' ? 1 : 2;
        }
        if (values.json) io.stdout(`${JSON.stringify(added.value)}\n`);
        else {
          io.stdout(
            `station ${added.value.id} added (security profile ${added.value.securityProfile}, ${evses} EVSE)\n`,
          );
          if (added.value.password) {
            io.stdout(`password (shown once; configure it on the station as BasicAuthPassword/AuthorizationKey):\n`);
            io.stdout(`  ${added.value.password}\n`);
          }
        }
        return 0;
      }
      case 'list': {
        const stations = await listStations(db, values.operator);
        if (values.json) io.stdout(`${JSON.stringify(stations)}\n`);
        else io.stdout(`${formatTable(stations)}\n`);
        return 0;
      }
      case 'show': {
        const shown = await showStation(db, stationId as string);
        if (!shown.ok) {
          io.stderr(`voltbill stations show: ${shown.error.message}\n`);
          return 1;
        }
        io.stdout(
          values.json
            ? `${JSON.stringify(shown.value)}\n`
            : `${Object.entries(shown.value)
                .map(([k, v]) => `${k.padEnd(20)} ${v ?? '-'}`)
                .join('\n')}\n`,
        );
        return 0;
      }
      case 'set-password': {
        const changed = await db
          .transaction()
          .execute(async (trx) => {
            const before = await trx
              .selectFrom('stations')
              .selectAll()
              .where('id', '=', stationId as string)
              .forUpdate()
              .executeTakeFirst();
            const result = await setStationCredentials(trx, stationId as string, {
              ...(values.password !== undefined && { password: values.password }),
              ...(profile !== undefined && { securityProfile: profile }),
            });
            if (!result.ok) throw new RegistryRefusal(result);
            if (before) {
              // Whether the password was chosen or generated, never the password or its hash.
              await auditStation(trx, now(), before, 'station.set-password', {
                before: stationAuditJson(before),
                after: {
                  ...stationAuditJson(await stationRow(trx, stationId as string)),
                  passwordGenerated: result.value.password !== undefined,
                },
              });
            }
            return result;
          })
          .catch(refusalResult);
        if (!changed.ok) {
          io.stderr(`voltbill stations set-password: ${changed.error.message}\n`);
          return changed.error.code === 'StationNotFound' ? 1 : 2;
        }
        io.stdout(
          changed.value.password
            ? `new password of ${stationId} (shown once):\n  ${changed.value.password}\n`
            : `password of ${stationId} changed\n`,
        );
        return 0;
      }
      default: {
        const removed = await db.transaction().execute(async (trx) => {
          const before = await trx
            .selectFrom('stations')
            .selectAll()
            .where('id', '=', stationId as string)
            .forUpdate()
            .executeTakeFirst();
          const result = await removeStation(trx, stationId as string);
          if (before && result.ok) {
            await auditStation(trx, now(), before, 'station.delete', { before: stationAuditJson(before) });
          } else if (before && !result.ok && result.error.code === 'StationHasSessions') {
            // The station stays (its sessions refer to it) but now refuses everything: kept and audited.
            await auditStation(trx, now(), before, 'station.reject', {
              before: stationAuditJson(before),
              after: stationAuditJson({ ...before, registration_status: 'Rejected' }),
            });
          }
          return result;
        });
        if (!removed.ok) {
          io.stderr(`voltbill stations remove: ${removed.error.message}\n`);
          return 1;
        }
        io.stdout(`station ${stationId} removed\n`);
        return 0;
      }
    }
  } finally {
    await database.close();
  }
}

type RegistryFailure = Extract<Awaited<ReturnType<typeof addStation>>, { ok: false }>;

/** A refused change, thrown to roll its transaction back, then returned as the registry's result. */
class RegistryRefusal extends Error {
  constructor(readonly result: RegistryFailure) {
    super(result.error.message);
  }
}

function refusalResult(error: unknown): RegistryFailure {
  if (error instanceof RegistryRefusal) return error.result;
  throw error;
}

async function stationRow(trx: Transaction<Database>, stationId: string): Promise<StationRow> {
  return trx.selectFrom('stations').selectAll().where('id', '=', stationId).executeTakeFirstOrThrow();
}

/**
 * Appends a CLI station change to its operator's audit chain in the change's transaction. A station outside any
 * operator (possible only for rows written before tenancy) has no chain to record in.
 */
async function auditStation(
  trx: Transaction<Database>,
  at: Date,
  station: StationRow,
  action: string,
  change: { before?: unknown; after?: unknown },
): Promise<void> {
  if (!station.operator_id) return;
  await appendAudit(trx, {
    operatorId: station.operator_id,
    actor: 'cli',
    action,
    subjectType: 'station',
    subjectId: station.id,
    ...change,
    at,
  });
}

/** What an audit entry records of a station (as the API does): its settings, whether it has a password, no hash. */
function stationAuditJson(row: StationRow) {
  return {
    id: row.id,
    locationId: row.location_id,
    registrationStatus: row.registration_status,
    securityProfile: row.security_profile,
    hasPassword: row.password_hash !== null,
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      id: { type: 'string' },
      password: { type: 'string' },
      'security-profile': { type: 'string' },
      operator: { type: 'string' },
      location: { type: 'string' },
      evses: { type: 'string' },
      json: { type: 'boolean' },
      params: { type: 'string' },
      'api-url': { type: 'string' },
      'api-key': { type: 'string' },
    },
  });
}

async function runRemoteCommand(
  positionals: string[],
  values: ReturnType<typeof parse>['values'],
  io: CommandIo,
  fetchFn: typeof fetch,
  usage: (message: string) => number,
): Promise<number> {
  const [stationId, command] = positionals;
  if (!stationId || !command) return usage('command needs a station id and a command name');
  if (!values['api-url'] || !values['api-key']) return usage('command needs --api-url and --api-key');
  let body: unknown = {};
  if (values.params !== undefined) {
    try {
      body = JSON.parse(values.params);
    } catch {
      return usage('--params is not JSON');
    }
  }
  const url = `${values['api-url'].replace(/\/+$/, '')}/api/v1/stations/${encodeURIComponent(stationId)}/commands/${encodeURIComponent(command)}`;
  const response = await fetchFn(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${values['api-key']}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.ok) {
    io.stdout(`${text}\n`);
    return 0;
  }
  io.stderr(`voltbill stations command: HTTP ${response.status}: ${text}\n`);
  return response.status === 400 || response.status === 404 ? 2 : 1;
}

async function openConfigured(): Promise<DatabaseHandle> {
  const config = loadConfig();
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, namedStatements: config.databasePreparedStatements }
      : { kind: 'pglite', dataDir: config.dataDir, command: 'stations' },
  );
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

function formatTable(stations: readonly StationSummary[]): string {
  const header = ['ID', 'STATUS', 'PROFILE', 'PASSWORD', 'OCPP', 'LAST SEEN'];
  const rows = stations.map((s) => [
    s.id,
    s.registrationStatus,
    String(s.securityProfile),
    s.hasPassword ? 'set' : '-',
    s.ocppVersion ?? '-',
    s.lastSeenAt ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
