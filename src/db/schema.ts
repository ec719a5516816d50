/**
 * Typed schema of the database for Kysely. Column types say what the drivers return: bigint for int8 (money in
 * minor units, energy in Wh), string for numeric (exact decimals), Date for timestamptz, parsed JSON for jsonb.
 * It mirrors migrations/*.sql; a migration that changes a table changes this file in the same commit.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

export interface OperatorsTable {
  id: Generated<string>;
  name: string;
  country_code: string;
  party_id: string;
  currency: string;
  rounding_mode: Generated<'half-up' | 'half-even'>;
  created_at: CreatedAt;
}

export interface LocationsTable {
  id: Generated<string>;
  operator_id: string;
  name: string;
  address: Generated<string>;
  city: Generated<string>;
  postal_code: Generated<string>;
  country: string;
  time_zone: string;
  latitude: string | null;
  longitude: string | null;
  created_at: CreatedAt;
}

export type RegistrationStatus = 'Accepted' | 'Pending' | 'Rejected';

export interface StationsTable {
  id: string;
  operator_id: string | null;
  location_id: string | null;
  registration_status: RegistrationStatus;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  firmware_version: string | null;
  ocpp_version: string | null;
  last_boot_at: Date | null;
  last_seen_at: Date | null;
  created_at: CreatedAt;
}

export type PowerType = 'AC_1_PHASE' | 'AC_2_PHASE' | 'AC_2_PHASE_SPLIT' | 'AC_3_PHASE' | 'DC';

export interface EvsesTable {
  station_id: string;
  evse_id: number;
  evse_uid: string;
  connector_standard: Generated<string>;
  connector_format: Generated<'SOCKET' | 'CABLE'>;
  power_type: PowerType;
  max_power_w: number;
  status: Generated<string>;
  error_code: string | null;
  status_at: Date | null;
}

export type IdTokenStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid';

export interface IdTokensTable {
  id: Generated<string>;
  operator_id: string;
  uid: string;
  type: Generated<'RFID' | 'APP_USER' | 'AD_HOC_USER' | 'OTHER'>;
  status: IdTokenStatus;
  expires_at: Date | null;
  contract_id: string | null;
  group_id: string | null;
  label: string | null;
  created_at: CreatedAt;
}

export interface TariffsTable {
  id: Generated<string>;
  operator_id: string;
  code: string;
  type: Generated<string>;
  created_at: CreatedAt;
  retired_at: Date | null;
}

export interface TariffVersionsTable {
  id: Generated<string>;
  tariff_id: string;
  version: number;
  valid_from: Date;
  currency: string;
  body: Json<unknown>;
  created_at: CreatedAt;
}

export type TariffAudience = 'contract' | 'ad_hoc';
export type TariffScopeKind = 'operator' | 'location' | 'evse' | 'group';

export interface TariffAssignmentsTable {
  id: Generated<string>;
  operator_id: string;
  tariff_id: string;
  audience: Generated<TariffAudience>;
  scope: TariffScopeKind;
  location_id: string | null;
  station_id: string | null;
  evse_id: number | null;
  group_id: string | null;
  created_at: CreatedAt;
}

export type SessionStatus = 'Active' | 'Completed';
export type BillingStatus = 'Pending' | 'Billed' | 'Held' | 'NotBillable';

export interface SessionsTable {
  id: Generated<string>;
  operator_id: string;
  station_id: string;
  evse_id: number;
  connector_id: Generated<number>;
  transaction_id: string;
  start_key: string;
  id_tag: string;
  id_token_id: string | null;
  authorization_status: string;
  status: SessionStatus;
  billing_status: Generated<BillingStatus>;
  started_at: Date;
  ended_at: Date | null;
  meter_start_wh: bigint;
  meter_stop_wh: bigint | null;
  energy_wh: bigint | null;
  stop_reason: string | null;
  tariff_version_id: string | null;
  time_zone: string;
  currency: string;
  charging_state: string | null;
  sample_count: Generated<number>;
  findings: ColumnType<unknown, string | undefined, string>;
  received_start_at: CreatedAt;
  received_stop_at: Date | null;
}

export interface MeterSamplesTable {
  session_id: string;
  sampled_at: Date;
  context: string;
  register_wh: string | null;
  power_w: string | null;
  current_a: string | null;
  soc_percent: string | null;
}

export interface SessionStatesTable {
  session_id: string;
  changed_at: Date;
  state: string;
}

export interface CdrsTable {
  id: Generated<string>;
  operator_id: string;
  session_id: string;
  currency: string;
  energy_wh: bigint;
  total_excl_vat_minor: bigint;
  total_incl_vat_minor: bigint;
  tariff_version_id: string;
  cdr: Json<unknown>;
  lines: Json<unknown>;
  created_at: CreatedAt;
}

export interface OcppMessagesTable {
  id: Generated<bigint>;
  station_id: string;
  direction: 'in' | 'out';
  message_type: number | null;
  message_id: string | null;
  action: string | null;
  payload: Json<unknown> | null;
  raw: string | null;
  logged_at: CreatedAt;
}

export type ApiRole = 'admin' | 'finance' | 'support' | 'read-only';

export interface ApiKeysTable {
  id: Generated<string>;
  operator_id: string;
  name: string;
  key_hash: string;
  role: ApiRole;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface Database {
  api_keys: ApiKeysTable;
  operators: OperatorsTable;
  locations: LocationsTable;
  stations: StationsTable;
  evses: EvsesTable;
  id_tokens: IdTokensTable;
  tariffs: TariffsTable;
  tariff_versions: TariffVersionsTable;
  tariff_assignments: TariffAssignmentsTable;
  sessions: SessionsTable;
  meter_samples: MeterSamplesTable;
  session_states: SessionStatesTable;
  cdrs: CdrsTable;
  ocpp_messages: OcppMessagesTable;
}

export type SessionRow = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type StationRow = Selectable<StationsTable>;
export type CdrRow = Selectable<CdrsTable>;
