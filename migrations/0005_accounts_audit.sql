-- Accounts (staff users, drivers, fleets), sign-in tokens, encryption keys and the hash-chained audit log.
-- Forward-only: a later change is a new file, never an edit of this one.

-- The audit log: one hash chain per operator. Each entry's hash covers the previous entry's hash and the entry's
-- canonical form, so an edited or deleted row breaks the chain (`voltbill audit verify`). The table also refuses
-- UPDATE and DELETE, so rewriting it needs a superuser who disables the trigger, and even then the chain shows it.
create table audit_log (
  id bigint generated always as identity primary key,
  operator_id uuid not null references operators (id),
  -- Position in the operator's chain, 1, 2, 3, ... without gaps: a gap is a deleted entry.
  seq bigint not null check (seq >= 1),
  at timestamptz not null,
  actor text not null check (length(actor) between 1 and 200),
  action text not null check (length(action) between 1 and 100),
  subject_type text not null check (length(subject_type) between 1 and 100),
  subject_id text not null check (length(subject_id) between 1 and 200),
  before jsonb,
  after jsonb,
  ip text,
  request_id text,
  prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  unique (operator_id, seq)
);
create index audit_log_operator_at on audit_log (operator_id, at desc);
create index audit_log_subject on audit_log (operator_id, subject_type, subject_id);
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function voltbill_refuse_change();

-- The head of each operator's chain. Appending locks this row FOR UPDATE, so concurrent appends of one operator
-- take turns (each sees the previous hash) while different operators never wait for each other. The head also
-- lets verify notice entries deleted from the end of the chain.
create table audit_chain_heads (
  operator_id uuid primary key references operators (id),
  seq bigint not null default 0 check (seq >= 0),
  hash text not null check (hash ~ '^[0-9a-f]{64}$')
);

-- Envelope encryption: personal data and secrets are encrypted with AES-256-GCM under data keys; each data key is
-- stored here only wrapped (encrypted) by a master key that never enters the database (a key file or the
-- VOLTBILL_MASTER_KEY environment variable). Rotation re-wraps these rows under a new master key; the data they
-- protect is not touched, so rotation is quick and needs no downtime.
create table encryption_keys (
  id uuid primary key default gen_random_uuid(),
  -- 'data': encrypts fields; 'blind-index': keys the HMAC that lets us look an email up without storing it.
  purpose text not null check (purpose in ('data', 'blind-index')),
  -- The one data key new values are encrypted with; older ones only decrypt.
  active boolean not null default false,
  master_key_id text not null check (length(master_key_id) between 1 and 64),
  -- base64url(iv 12 bytes || ciphertext 32 bytes || tag 16 bytes).
  wrapped_key text not null,
  created_at timestamptz not null default now(),
  rewrapped_at timestamptz
);
create unique index encryption_keys_one_active on encryption_keys (purpose) where active;

-- Fleets: a company paying for several drivers. The company name is business data; its billing contact is
-- personal data and stored encrypted.
create table fleets (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  name text not null check (length(name) between 1 and 200),
  billing_email_enc text,
  billing_address_enc text,
  created_at timestamptz not null default now(),
  unique (id, operator_id)
);
create index fleets_operator on fleets (operator_id);

-- Drivers (customers). Every personal field is ciphertext (vbe1.<keyId>.<iv>.<ct>); email_index is an HMAC of the
-- normalized email for exact lookups, never the email itself.
create table customers (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  fleet_id uuid,
  name_enc text not null,
  email_enc text,
  email_index text check (email_index is null or email_index ~ '^[0-9a-f]{64}$'),
  address_enc text,
  -- The payment provider's customer id (cus_...): a secret that reaches the provider's card vault.
  provider_customer_id_enc text,
  created_at timestamptz not null default now(),
  unique (id, operator_id),
  -- A fleet of another operator cannot be named: the pair must exist.
  foreign key (fleet_id, operator_id) references fleets (id, operator_id)
);
create index customers_operator on customers (operator_id, created_at desc);
create unique index customers_email on customers (operator_id, email_index) where email_index is not null;

-- A driver's RFID cards and app tokens.
alter table id_tokens add column customer_id uuid references customers (id);
create index id_tokens_customer on id_tokens (customer_id) where customer_id is not null;

-- People who sign in: operator staff (admin, finance, support, read-only) and drivers (role driver, tied to their
-- customer row). The email is unique across all tenants because sign-in names no tenant.
create table users (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  email_index text not null unique check (email_index ~ '^[0-9a-f]{64}$'),
  email_enc text not null,
  name_enc text,
  -- scrypt$N$r$p$salt$hash (src/accounts/password-hash.ts).
  password_hash text not null check (password_hash like 'scrypt$%'),
  role text not null check (role in ('admin', 'finance', 'support', 'read-only', 'driver')),
  customer_id uuid,
  created_at timestamptz not null default now(),
  disabled_at timestamptz,
  last_sign_in_at timestamptz,
  -- Failed sign-ins in a row; at the limit the account is locked until locked_until (slows password guessing).
  failed_sign_ins integer not null default 0 check (failed_sign_ins >= 0),
  locked_until timestamptz,
  check ((role = 'driver') = (customer_id is not null)),
  foreign key (customer_id, operator_id) references customers (id, operator_id)
);
create index users_operator on users (operator_id);

-- A signed-in session of a user: access tokens name it (sid) and die with it; refresh tokens rotate inside it.
create table auth_sessions (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  user_id uuid not null references users (id),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text,
  ip text
);
create index auth_sessions_user on auth_sessions (user_id);

-- Refresh tokens: only their SHA-256 is stored. Each is used once; presenting a used one again means it was
-- stolen, and the whole auth session is revoked.
create table refresh_tokens (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  session_id uuid not null references auth_sessions (id),
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index refresh_tokens_session on refresh_tokens (session_id);

-- API keys: a short prefix to recognize a key in lists (never enough to use it) and who created it.
alter table api_keys add column key_prefix text;
alter table api_keys add column created_by text;
