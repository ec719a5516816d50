-- Station security (OCPP security profiles 1-3), OCPP 2.0.1 transaction events and local authorization lists.
-- Forward-only: a later change is a new file, never an edit of this one.

-- The security profile a station must use, and never less: 0 = unsecured (development only, and only while the
-- node's VOLTBILL_OCPP_MIN_SECURITY_PROFILE is 0), 1 = HTTP Basic auth over ws://, 2 = TLS + Basic auth,
-- 3 = mutual TLS (client certificate whose CN is the station id, chained to the operator's CA).
alter table stations add column security_profile smallint not null default 0 check (security_profile between 0 and 3);
-- Only a slow scrypt hash of the station's Basic auth password is stored, never the password:
-- scrypt$N$r$p$salt(base64)$hash(base64).
alter table stations add column password_hash text check (password_hash is null or password_hash like 'scrypt$%');
alter table stations add column password_changed_at timestamptz;
-- Version of the local authorization list last accepted by the station (SendLocalList); 0 = none sent.
alter table stations add column local_list_version integer not null default 0 check (local_list_version >= 0);
-- Profiles 1 and 2 authenticate with the password: a station at those profiles without one cannot connect.
alter table stations add constraint stations_password_for_profile
  check (security_profile not in (1, 2) or password_hash is not null);

-- Every OCPP 2.0.1 TransactionEvent as received, once per (station, transaction, seqNo): a retried or duplicated
-- event lands on the same key and is applied once; offline events arriving late and out of order wait here until
-- they can be applied in seqNo order.
create table ocpp_transaction_events (
  station_id text not null references stations (id),
  transaction_id text not null check (length(transaction_id) between 1 and 36),
  seq_no integer not null check (seq_no >= 0),
  event_type text not null check (event_type in ('Started', 'Updated', 'Ended')),
  event_at timestamptz not null,
  offline boolean not null default false,
  -- The TransactionEventRequest exactly as validated against the official schema.
  payload jsonb not null,
  received_at timestamptz not null,
  -- When the event was turned into SessionEvents; null while it waits for an earlier one.
  applied_at timestamptz,
  primary key (station_id, transaction_id, seq_no)
);
create index ocpp_transaction_events_pending on ocpp_transaction_events (station_id, transaction_id)
  where applied_at is null;
