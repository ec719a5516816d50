/**
 * Station management for operators (`voltbill stations ...` and the stations API): registering a station with its
 * security profile and password, listing, showing and removing it. A password is stored only as its scrypt hash;
 * a generated one is returned once, to be configured on the station, and cannot be read back.
 *
 * Each change takes either the Kysely instance (it opens its own transaction) or the caller's Transaction, so
 * that the API can write the change and its audit entry atomically.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, StationRow } from '../db/schema.ts';
import { generatePassword, hashPassword, passwordProblem } from './security/password-hash.ts';

/**
 * Runs `work` in the caller's transaction when given one (so that the API can append the audit entry in the same
 * transaction as the change), else in a new one.
 */
function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}

export type StationRegistryError =
  | { readonly code: 'InvalidStationId'; readonly message: string }
  | { readonly code: 'InvalidSecurityProfile'; readonly message: string }
  | { readonly code: 'InvalidPassword'; readonly message: string }
  | { readonly code: 'StationExists'; readonly message: string }
  | { readonly code: 'StationNotFound'; readonly message: string }
  | { readonly code: 'LocationNotFound'; readonly message: string }
  | { readonly code: 'StationHasSessions'; readonly message: string };

type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: StationRegistryError };

export const STATION_ID_PATTERN = /^[A-Za-z0-9*._:-]{1,48}$/;

export type NewStation = {
  readonly id: string;
  readonly operatorId: string;
  /** The station's site; default: the operator's only location. */
  readonly locationId?: string;
  readonly securityProfile: number;
  /** Profiles 1 and 2: the password to use; absent: one is generated and returned. */
  readonly password?: string;
  /** EVSEs to create (1..n), each with this power. */
  readonly evseCount?: number;
  readonly maxPowerW?: number;
};

export type AddedStation = { readonly id: string; readonly securityProfile: number; readonly password?: string };

export async function addStation(db: Kysely<Database>, input: NewStation): Promise<Result<AddedStation>> {
  if (!STATION_ID_PATTERN.test(input.id)) {
    return fail('InvalidStationId', 'a station id has 1 to 48 characters of A-Z a-z 0-9 * . _ : -');
  }
  if (![0, 1, 2, 3].includes(input.securityProfile)) {
    return fail('InvalidSecurityProfile', 'the security profile is 0, 1, 2 or 3');
  }
  const needsPassword = input.securityProfile === 1 || input.securityProfile === 2;
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password);
    if (problem) return fail('InvalidPassword', problem);
  }
  const password = needsPassword ? (input.password ?? generatePassword()) : input.password;
  const passwordHash = password === undefined ? null : await hashPassword(password);
  const location = input.locationId
    ? await db
        .selectFrom('locations')
        .select(['id', 'country'])
        .where('id', '=', input.locationId)
        .where('operator_id', '=', input.operatorId)
        .executeTakeFirst()
    : await onlyLocation(db, input.operatorId);
  if (!location) {
    return fail(
      'LocationNotFound',
      input.locationId ? `no location ${input.locationId}` : 'the operator has no single location: pass --location',
    );
  }
  const operator = await db
    .selectFrom('operators')
    .select(['country_code', 'party_id'])
    .where('id', '=', input.operatorId)
    .executeTakeFirstOrThrow();
  // Checked first, so that a caller's transaction is not aborted by the unique violation in the common case; the
  // catch below still covers two registrations racing for the same id.
  const existing = await db.selectFrom('stations').select('id').where('id', '=', input.id).executeTakeFirst();
  if (existing) return fail('StationExists', `station ${input.id} exists`);
  try {
    await inTransaction(db, async (trx) => {
      await trx
        .insertInto('stations')
        .values({
          id: input.id,
          operator_id: input.operatorId,
          location_id: location.id,
          registration_status: 'Accepted',
          vendor: null,
          model: null,
          serial_number: null,
          firmware_version: null,
          ocpp_version: null,
          last_boot_at: null,
          last_seen_at: null,
          security_profile: input.securityProfile,
          password_hash: passwordHash,
          password_changed_at: passwordHash ? new Date() : null,
        })
        .execute();
      const evses = Array.from({ length: input.evseCount ?? 1 }, (_, i) => ({
        station_id: input.id,
        evse_id: i + 1,
        // The EVSE id an eMSP sees (eMI3 form): country*party*E<station>*<evse>.
        evse_uid: `${operator.country_code}*${operator.party_id}*E${input.id}*${i + 1}`,
        power_type: 'AC_3_PHASE' as const,
        max_power_w: input.maxPowerW ?? 22_000,
      }));
      if (evses.length > 0) await trx.insertInto('evses').values(evses).execute();
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return fail('StationExists', `station ${input.id} exists`);
    throw error;
  }
  return {
    ok: true,
    value: {
      id: input.id,
      securityProfile: input.securityProfile,
      ...(password !== undefined && input.password === undefined && { password }),
    },
  };
}

/** Sets a new password (hash only) and, optionally, a new profile; returns a generated password once. */
export async function setStationCredentials(
  db: Kysely<Database>,
  stationId: string,
  change: { readonly password?: string; readonly securityProfile?: number },
): Promise<Result<{ password?: string }>> {
  if (change.password !== undefined) {
    const problem = passwordProblem(change.password);
    if (problem) return fail('InvalidPassword', problem);
  }
  if (change.securityProfile !== undefined && ![0, 1, 2, 3].includes(change.securityProfile)) {
    return fail('InvalidSecurityProfile', 'the security profile is 0, 1, 2 or 3');
  }
  const password = change.password ?? generatePassword();
  const result = await db
    .updateTable('stations')
    .set({
      password_hash: await hashPassword(password),
      password_changed_at: new Date(),
      ...(change.securityProfile !== undefined && { security_profile: change.securityProfile }),
    })
    .where('id', '=', stationId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return fail('StationNotFound', `no station ${stationId}`);
  return { ok: true, value: change.password === undefined ? { password } : {} };
}

export type StationSummary = {
  readonly id: string;
  readonly operatorId: string | null;
  readonly locationId: string | null;
  readonly registrationStatus: string;
  readonly securityProfile: number;
  readonly hasPassword: boolean;
  readonly passwordChangedAt: string | null;
  readonly ocppVersion: string | null;
  readonly vendor: string | null;
  readonly model: string | null;
  readonly lastSeenAt: string | null;
};

export function summarizeStation(row: StationRow): StationSummary {
  return {
    id: row.id,
    operatorId: row.operator_id,
    locationId: row.location_id,
    registrationStatus: row.registration_status,
    securityProfile: row.security_profile,
    hasPassword: row.password_hash !== null,
    passwordChangedAt: row.password_changed_at?.toISOString() ?? null,
    ocppVersion: row.ocpp_version,
    vendor: row.vendor,
    model: row.model,
    lastSeenAt: row.last_seen_at?.toISOString() ?? null,
  };
}

export async function listStations(db: Kysely<Database>, operatorId?: string): Promise<StationSummary[]> {
  let query = db.selectFrom('stations').selectAll().orderBy('id').limit(100_000);
  if (operatorId) query = query.where('operator_id', '=', operatorId);
  return (await query.execute()).map(summarizeStation);
}

export async function showStation(db: Kysely<Database>, stationId: string): Promise<Result<StationSummary>> {
  const row = await db.selectFrom('stations').selectAll().where('id', '=', stationId).executeTakeFirst();
  return row ? { ok: true, value: summarizeStation(row) } : fail('StationNotFound', `no station ${stationId}`);
}

/**
 * Removes a station that has never had a session. A station with sessions stays (its sessions and CDRs refer to
 * it): set it to Rejected instead, which refuses everything but BootNotification.
 */
export async function removeStation(db: Kysely<Database>, stationId: string): Promise<Result<{ id: string }>> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .selectFrom('stations')
      .select('id')
      .where('id', '=', stationId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return fail('StationNotFound', `no station ${stationId}`);
    const used = await trx
      .selectFrom('sessions')
      .select('id')
      .where('station_id', '=', stationId)
      .limit(1)
      .executeTakeFirst();
    if (used) {
      await trx.updateTable('stations').set({ registration_status: 'Rejected' }).where('id', '=', stationId).execute();
      return fail('StationHasSessions', `station ${stationId} has sessions: it was set to Rejected instead of removed`);
    }
    await trx.deleteFrom('tariff_assignments').where('station_id', '=', stationId).execute();
    await trx.deleteFrom('ocpp_transaction_events').where('station_id', '=', stationId).execute();
    await trx.deleteFrom('evses').where('station_id', '=', stationId).execute();
    await trx.deleteFrom('stations').where('id', '=', stationId).execute();
    return { ok: true, value: { id: stationId } };
  });
}

async function onlyLocation(db: Kysely<Database>, operatorId: string) {
  const rows = await db
    .selectFrom('locations')
    .select(['id', 'country'])
    .where('operator_id', '=', operatorId)
    .limit(2)
    .execute();
  return rows.length === 1 ? rows[0] : undefined;
}

function fail(code: StationRegistryError['code'], message: string): { ok: false; error: StationRegistryError } {
  return { ok: false, error: { code, message } as StationRegistryError };
}

/** The id of the only operator, for single-tenant setups (the CLI's default). */
export async function onlyOperatorId(db: Kysely<Database>): Promise<string | undefined> {
  const rows = await db.selectFrom('operators').select('id').orderBy(sql`created_at`).limit(2).execute();
  return rows.length === 1 ? rows[0]?.id : undefined;
}
