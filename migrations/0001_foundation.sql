-- Voltbill foundation schema: tenants, sites, stations, tokens, tariffs, sessions, samples, CDRs, OCPP log.
-- Forward-only: a later change is a new file, never an edit of this one.

-- Records that must never change once written (CDRs, tariff versions, the OCPP message log) refuse UPDATE and
-- DELETE at the database level, so that no code path and no operator typing SQL can quietly rewrite history.
create function voltbill_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'table % is append-only: % refused', tg_table_name, tg_op using errcode = 'P0001';
end
$$;

create table operators (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  -- OCPI party identity: ISO 3166-1 alpha-2 country code and 3-character party id.
  country_code text not null check (country_code ~ '^[A-Z]{2}$'),
  party_id text not null check (party_id ~ '^[A-Z0-9]{3}$'),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  rounding_mode text not null default 'half-up' check (rounding_mode in ('half-up', 'half-even')),
  created_at timestamptz not null default now(),
  unique (country_code, party_id)
);

create table locations (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  name text not null check (length(name) between 1 and 255),
  address text not null default '',
  city text not null default '',
  postal_code text not null default '',
  -- ISO 3166-1 alpha-3, as OCPI's Location.country.
  country text not null check (country ~ '^[A-Z]{3}$'),
  -- IANA zone: tariffs are local wall-clock, so pricing without a zone is an error, never UTC by default.
  time_zone text not null check (length(time_zone) between 1 and 64),
  latitude numeric(9, 6),
  longitude numeric(9, 6),
  created_at timestamptz not null default now()
);
create index locations_operator on locations (operator_id);

create table stations (
  -- The OCPP identity: the last path segment of ws://host/ocpp/{id}. Unique across all tenants.
  id text primary key check (id ~ '^[A-Za-z0-9*._:-]{1,48}$'),
  operator_id uuid references operators (id),
  location_id uuid references locations (id),
  registration_status text not null check (registration_status in ('Accepted', 'Pending', 'Rejected')),
  vendor text,
  model text,
  serial_number text,
  firmware_version text,
  ocpp_version text,
  last_boot_at timestamptz,
  last_seen_at timestamptz,
  created_at timestamptz not null default now(),
  -- Only an accepted station belongs to an operator and a site; an auto-registered one waits as Pending.
  check (registration_status <> 'Accepted' or (operator_id is not null and location_id is not null))
);
create index stations_operator on stations (operator_id);

-- One row per EVSE (OCPP 1.6: one per connectorId; the connector id inside the EVSE is then 1).
create table evses (
  station_id text not null references stations (id),
  evse_id integer not null check (evse_id between 1 and 1000),
  evse_uid text not null,
  connector_standard text not null default 'IEC_62196_T2',
  connector_format text not null default 'SOCKET' check (connector_format in ('SOCKET', 'CABLE')),
  power_type text not null check (power_type in ('AC_1_PHASE', 'AC_2_PHASE', 'AC_2_PHASE_SPLIT', 'AC_3_PHASE', 'DC')),
  max_power_w integer not null check (max_power_w > 0),
  status text not null default 'Unknown',
  error_code text,
  status_at timestamptz,
  primary key (station_id, evse_id),
  unique (evse_uid)
);

create table id_tokens (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  -- OCPP idTag / IdToken value (RFID UID). OCPP compares it case-insensitively (CiString).
  uid text not null check (length(uid) between 1 and 36),
  type text not null default 'RFID' check (type in ('RFID', 'APP_USER', 'AD_HOC_USER', 'OTHER')),
  status text not null check (status in ('Accepted', 'Blocked', 'Expired', 'Invalid')),
  expires_at timestamptz,
  contract_id text,
  group_id text,
  label text,
  created_at timestamptz not null default now()
);
create unique index id_tokens_uid on id_tokens (operator_id, upper(uid));

create table tariffs (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  -- OCPI Tariff.id: stable across versions.
  code text not null check (code ~ '^[A-Za-z0-9._-]{1,36}$'),
  type text not null default 'REGULAR'
    check (type in ('AD_HOC_PAYMENT', 'PROFILE_CHEAP', 'PROFILE_FAST', 'PROFILE_GREEN', 'REGULAR')),
  created_at timestamptz not null default now(),
  retired_at timestamptz,
  unique (operator_id, code)
);

-- A change to a tariff is a new version; versions are immutable and the version in force at a session's start
-- is frozen into the session.
create table tariff_versions (
  id uuid primary key default gen_random_uuid(),
  tariff_id uuid not null references tariffs (id),
  version integer not null check (version >= 1),
  valid_from timestamptz not null,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  -- The OCPI 2.2.1 Tariff object exactly as validated.
  body jsonb not null,
  created_at timestamptz not null default now(),
  unique (tariff_id, version)
);
create trigger tariff_versions_append_only before update or delete on tariff_versions
  for each row execute function voltbill_refuse_change();

-- Which tariff applies where and to whom. Precedence (narrowest first): driver group, EVSE, location, operator.
-- The audience separates drivers with a contract (RFID card, app) from ad-hoc payers without one (AFIR); an ad-hoc
-- payer gets an ad_hoc assignment where one exists and the contract tariff otherwise (docs/tariffs.md).
create table tariff_assignments (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  tariff_id uuid not null references tariffs (id),
  audience text not null default 'contract' check (audience in ('contract', 'ad_hoc')),
  scope text not null check (scope in ('operator', 'location', 'evse', 'group')),
  location_id uuid references locations (id),
  station_id text,
  evse_id integer,
  group_id text check (group_id is null or length(group_id) between 1 and 64),
  created_at timestamptz not null default now(),
  check ((scope = 'operator' and location_id is null and station_id is null and group_id is null)
      or (scope = 'location' and location_id is not null and station_id is null and group_id is null)
      or (scope = 'evse' and station_id is not null and evse_id is not null and group_id is null)
      or (scope = 'group' and group_id is not null and location_id is null and station_id is null)),
  foreign key (station_id, evse_id) references evses (station_id, evse_id)
);
create unique index tariff_assignments_operator on tariff_assignments (operator_id, audience) where scope = 'operator';
create unique index tariff_assignments_location on tariff_assignments (location_id, audience) where scope = 'location';
create unique index tariff_assignments_evse on tariff_assignments (station_id, evse_id, audience) where scope = 'evse';
create unique index tariff_assignments_group on tariff_assignments (operator_id, group_id, audience) where scope = 'group';

create table sessions (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  station_id text not null references stations (id),
  evse_id integer not null,
  connector_id integer not null default 1,
  -- The transaction id the station uses: OCPP 1.6 an integer Voltbill assigned (random, so not guessable),
  -- OCPP 2.0.1 the station's own string. Bound to its station by the unique key below.
  transaction_id text not null,
  -- Identity of the StartTransaction that created the session: a station's retry of the same start maps to it.
  start_key text not null,
  id_tag text not null,
  id_token_id uuid references id_tokens (id),
  authorization_status text not null,
  status text not null check (status in ('Active', 'Completed')),
  -- Billing: Pending while active; Billed with a CDR; Held for review; NotBillable (never billed to anyone).
  billing_status text not null default 'Pending'
    check (billing_status in ('Pending', 'Billed', 'Held', 'NotBillable')),
  started_at timestamptz not null,
  ended_at timestamptz,
  meter_start_wh bigint not null check (meter_start_wh >= 0),
  meter_stop_wh bigint,
  -- Billed energy: meter_stop_wh - meter_start_wh, exact; null until the session ends or when not billable.
  energy_wh bigint,
  stop_reason text,
  tariff_version_id uuid references tariff_versions (id),
  time_zone text not null,
  currency text not null,
  charging_state text,
  sample_count integer not null default 0,
  -- Findings about the session (meter went backwards, no tariff, ...), each {code, severity, message}.
  findings jsonb not null default '[]',
  received_start_at timestamptz not null default now(),
  received_stop_at timestamptz,
  unique (station_id, transaction_id),
  unique (station_id, start_key)
);
create index sessions_operator_started on sessions (operator_id, started_at desc);
create index sessions_station_started on sessions (station_id, started_at desc);

-- Meter readings of a session, normalized: energy register in Wh (3 decimals, exact), power W, current A, SoC %.
-- A station's retry of the same MeterValues lands on the same key and is ignored.
create table meter_samples (
  session_id uuid not null references sessions (id),
  sampled_at timestamptz not null,
  context text not null,
  register_wh numeric(20, 3),
  power_w numeric(14, 3),
  current_a numeric(12, 3),
  soc_percent numeric(6, 2),
  primary key (session_id, sampled_at, context)
);

-- Charging-state changes (Charging, SuspendedEV, ...) of a session: TIME versus PARKING_TIME depend on them.
create table session_states (
  session_id uuid not null references sessions (id),
  changed_at timestamptz not null,
  state text not null,
  primary key (session_id, changed_at, state)
);

create table cdrs (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  session_id uuid not null unique references sessions (id),
  currency text not null,
  energy_wh bigint not null,
  total_excl_vat_minor bigint not null,
  total_incl_vat_minor bigint not null,
  tariff_version_id uuid not null references tariff_versions (id),
  -- The OCPI 2.2.1 CDR document and the rounded invoice lines (with their unrounded amounts).
  cdr jsonb not null,
  lines jsonb not null,
  created_at timestamptz not null default now()
);
create index cdrs_operator_created on cdrs (operator_id, created_at desc);
create trigger cdrs_append_only before update or delete on cdrs
  for each row execute function voltbill_refuse_change();

-- Every OCPP frame received and sent, as it was (raw text kept when it was not valid JSON).
create table ocpp_messages (
  id bigint generated always as identity primary key,
  station_id text not null,
  direction text not null check (direction in ('in', 'out')),
  message_type smallint,
  message_id text,
  action text,
  payload jsonb,
  raw text,
  logged_at timestamptz not null default now()
);
create index ocpp_messages_station on ocpp_messages (station_id, id);
create trigger ocpp_messages_append_only before update or delete on ocpp_messages
  for each row execute function voltbill_refuse_change();

-- Machine credentials for the HTTP API. Only a SHA-256 hash of the key is stored: keys are 256-bit random
-- secrets, so a fast hash is enough, and the key itself is shown once, when it is created.
create table api_keys (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  name text not null check (length(name) between 1 and 100),
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  role text not null check (role in ('admin', 'finance', 'support', 'read-only')),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
