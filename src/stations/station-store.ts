/** Reads and writes of stations and their EVSEs. */
import type { Kysely, Transaction } from 'kysely';
import { queryTemplate } from '../db/query-template.ts';
import type { Database, PowerType, RegistrationStatus, StationRow } from '../db/schema.ts';

export type BootInfo = {
  readonly vendor: string;
  readonly model: string;
  readonly serialNumber?: string;
  readonly firmwareVersion?: string;
  readonly ocppVersion: string;
};

export async function findStation(db: Kysely<Database>, stationId: string): Promise<StationRow | undefined> {
  return db.selectFrom('stations').selectAll().where('id', '=', stationId).executeTakeFirst();
}

/** Records a BootNotification of a known station. */
export async function recordBoot(db: Kysely<Database>, stationId: string, info: BootInfo, at: Date): Promise<void> {
  await db
    .updateTable('stations')
    .set({
      vendor: info.vendor,
      model: info.model,
      serial_number: info.serialNumber ?? null,
      firmware_version: info.firmwareVersion ?? null,
      ocpp_version: info.ocppVersion,
      last_boot_at: at,
      last_seen_at: at,
    })
    .where('id', '=', stationId)
    .execute();
}

/** Registers an unknown station as Pending, for an operator to accept; a concurrent second boot changes nothing. */
export async function registerPendingStation(
  db: Kysely<Database>,
  stationId: string,
  info: BootInfo,
  at: Date,
): Promise<RegistrationStatus> {
  await db
    .insertInto('stations')
    .values({
      id: stationId,
      operator_id: null,
      location_id: null,
      registration_status: 'Pending',
      vendor: info.vendor,
      model: info.model,
      serial_number: info.serialNumber ?? null,
      firmware_version: info.firmwareVersion ?? null,
      ocpp_version: info.ocppVersion,
      last_boot_at: at,
      last_seen_at: at,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const row = await findStation(db, stationId);
  return row?.registration_status ?? 'Pending';
}

/** Everything a session start needs to know about where it happens. */
export type EvseContext = {
  readonly stationId: string;
  readonly operatorId: string;
  readonly currency: string;
  readonly roundingMode: 'half-up' | 'half-even';
  readonly countryCode: string;
  readonly partyId: string;
  readonly locationId: string;
  readonly locationName: string;
  readonly address: string;
  readonly city: string;
  readonly postalCode: string;
  readonly country: string;
  readonly timeZone: string;
  readonly latitude: string | null;
  readonly longitude: string | null;
  readonly evseId: number;
  readonly evseUid: string;
  readonly connectorStandard: string;
  readonly connectorFormat: string;
  readonly powerType: PowerType;
  readonly maxPowerW: number;
};

export async function loadEvseContext(
  db: Kysely<Database> | Transaction<Database>,
  stationId: string,
  evseId: number,
  options: { acceptedOnly: boolean } = { acceptedOnly: true },
): Promise<EvseContext | undefined> {
  const [context] = await (options.acceptedOnly ? acceptedEvseContextQuery : evseContextQuery).rows(db, {
    stationId,
    evseId,
  });
  return context;
}

/** loadEvseContext's statements, built once (src/db/query-template.ts): every start and stop runs one. */
const evseContextQuery = queryTemplate('loadEvseContext', ['stationId', 'evseId'], (db, p: EvseKey) =>
  selectEvseContext(db, p.stationId, p.evseId),
);
const acceptedEvseContextQuery = queryTemplate('loadEvseContext accepted', ['stationId', 'evseId'], (db, p: EvseKey) =>
  selectEvseContext(db, p.stationId, p.evseId).where('s.registration_status', '=', 'Accepted'),
);

type EvseKey = { stationId: string; evseId: number };

/**
 * The EVSE context's columns (stations s, operators o, locations l, evses e) but the operator's currency, which a
 * read that also selects a session's columns (a session has a currency of its own) names differently
 * (billing-shared.ts lockSessionForBilling).
 */
export const EVSE_CONTEXT_COLUMNS_BUT_CURRENCY = [
  's.id as stationId',
  'o.id as operatorId',
  'o.rounding_mode as roundingMode',
  'o.country_code as countryCode',
  'o.party_id as partyId',
  'l.id as locationId',
  'l.name as locationName',
  'l.address',
  'l.city',
  'l.postal_code as postalCode',
  'l.country',
  'l.time_zone as timeZone',
  'l.latitude',
  'l.longitude',
  'e.evse_id as evseId',
  'e.evse_uid as evseUid',
  'e.connector_standard as connectorStandard',
  'e.connector_format as connectorFormat',
  'e.power_type as powerType',
  'e.max_power_w as maxPowerW',
] as const;

/** The EVSE context's read (stations s, operators o, locations l, evses e). */
function selectEvseContext(db: Kysely<Database> | Transaction<Database>, stationId: string, evseId: number) {
  return db
    .selectFrom('stations as s')
    .innerJoin('operators as o', 'o.id', 's.operator_id')
    .innerJoin('locations as l', 'l.id', 's.location_id')
    .innerJoin('evses as e', (join) => join.onRef('e.station_id', '=', 's.id').on('e.evse_id', '=', evseId))
    .select([...EVSE_CONTEXT_COLUMNS_BUT_CURRENCY, 'o.currency'])
    .where('s.id', '=', stationId);
}
