-- Meter registry, signed meter values kept with their sessions, and operator decisions on held sessions.
-- Forward-only: a later change is a new file, never an edit of this one.

-- One meter per EVSE: the device whose register a session is billed from. Its calibration (Eichung) decides
-- whether its readings may be billed at all; its public key decides whose signatures are believed.
create table meters (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  station_id text not null,
  evse_id integer not null,
  serial text not null check (length(serial) between 1 and 64),
  model text check (model is null or length(model) between 1 and 100),
  -- The meter's public key as given (SPKI DER hex, spaced hex, Base64, raw point); compared after decoding.
  public_key text check (public_key is null or length(public_key) between 1 and 1024),
  -- configured: entered by an operator (trusted); pinned: taken from the first signed data seen (flagged).
  key_source text check (key_source is null or key_source in ('configured', 'pinned')),
  key_pinned_at timestamptz,
  -- Reference of the calibration / conformity certificate (e.g. the Eichschein number).
  calibration_certificate_ref text check (calibration_certificate_ref is null or length(calibration_certificate_ref) <= 200),
  last_calibrated_on date,
  -- Last day on which the calibration is valid (inclusive), in the location's local calendar.
  calibration_valid_until date,
  -- true: a session on this meter without signed meter data is held (Eichrecht sites).
  signed_data_required boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((public_key is null) = (key_source is null)),
  check (last_calibrated_on is null or calibration_valid_until is null or last_calibrated_on <= calibration_valid_until),
  unique (station_id, evse_id),
  foreign key (station_id, evse_id) references evses (station_id, evse_id)
);
create index meters_operator_valid_until on meters (operator_id, calibration_valid_until);

-- Signed meter values (OCMF, Alfen, ...) exactly as the station sent them: the signature covers these bytes, so
-- they are stored raw and never re-serialized. A station's retry of the same value is stored once.
create table session_signed_values (
  id bigint generated always as identity primary key,
  session_id uuid not null references sessions (id),
  -- Where it came from: MeterValues, StopTransaction (transactionData) or TransactionEvent (OCPP 2.0.1).
  source text not null check (source in ('MeterValues', 'StopTransaction', 'TransactionEvent')),
  sampled_at timestamptz,
  context text,
  -- OCPP 1.6: the sampledValue's value string; OCPP 2.0.1: the signedMeterValue object as JSON text.
  raw text not null check (length(raw) between 1 and 100000),
  raw_sha256 text not null check (raw_sha256 ~ '^[0-9a-f]{64}$'),
  received_at timestamptz not null default now(),
  unique (session_id, raw_sha256)
);
create trigger session_signed_values_append_only before update or delete on session_signed_values
  for each row execute function voltbill_refuse_change();

-- What an operator decided about a held session: released (billed now) or voided (never billed), and why.
create table review_decisions (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  session_id uuid not null unique references sessions (id),
  decision text not null check (decision in ('release', 'void')),
  reason text not null check (length(reason) between 3 and 1000),
  actor text not null check (length(actor) between 1 and 200),
  decided_at timestamptz not null
);
create trigger review_decisions_append_only before update or delete on review_decisions
  for each row execute function voltbill_refuse_change();
create index sessions_operator_held on sessions (operator_id, ended_at) where billing_status = 'Held';
