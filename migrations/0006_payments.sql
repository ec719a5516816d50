-- Payments: saved payment methods (provider tokens only), prepaid wallets, payments with their holds and
-- captures, the outbox that carries provider calls after commit, processed webhook events, refunds and dunning.
-- Forward-only: a later change is a new file, never an edit of this one.
-- No column here ever holds a card number: cards live in the provider (Stripe, or the sandbox's own vault).

create table payment_methods (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  -- The id token (RFID card, app token) whose sessions this method pays; a customer account once those exist.
  id_token_id uuid references id_tokens (id),
  customer_id uuid,
  provider text not null check (provider in ('sandbox', 'stripe')),
  provider_customer_id text not null check (length(provider_customer_id) between 1 and 255),
  token text not null check (length(token) between 1 and 255),
  brand text not null check (length(brand) between 1 and 40),
  last4 text not null check (last4 ~ '^[0-9]{4}$'),
  exp_month integer not null check (exp_month between 1 and 12),
  exp_year integer not null check (exp_year between 2000 and 2200),
  -- blocked: dunning after repeated failures or a card that cannot succeed (expired, closed); unblocked when paid.
  status text not null default 'active' check (status in ('active', 'blocked')),
  failure_count integer not null default 0 check (failure_count >= 0),
  blocked_reason text,
  created_at timestamptz not null default now(),
  unique (provider, token)
);
create index payment_methods_token on payment_methods (id_token_id);

create table wallets (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  id_token_id uuid references id_tokens (id),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  -- Mirrors the ledger account prepaid_wallets:<id> (credit balance); the row lock and the check make
  -- "never below zero" exact under concurrent debits.
  balance_minor bigint not null default 0 check (balance_minor >= 0),
  created_at timestamptz not null default now()
);

-- Each change of a wallet's balance; append-only, idempotent by key.
create table wallet_entries (
  id bigint generated always as identity primary key,
  wallet_id uuid not null references wallets (id),
  kind text not null check (kind in ('top_up', 'session_debit', 'refund', 'correction')),
  amount_minor bigint not null check (amount_minor <> 0),
  idempotency_key text not null unique check (length(idempotency_key) between 1 and 200),
  session_id uuid references sessions (id),
  payment_id uuid,
  created_at timestamptz not null default now()
);
create trigger wallet_entries_append_only before update or delete on wallet_entries
  for each row execute function voltbill_refuse_change();

-- How an id token pays: 'card' (saved method: hold at start, capture at end), 'wallet' (prepaid balance),
-- 'invoice' (contract customers and fleets: monthly statement, charged to the saved method or by bank transfer).
create table payment_profiles (
  id_token_id uuid primary key references id_tokens (id),
  operator_id uuid not null references operators (id),
  method text not null check (method in ('card', 'wallet', 'invoice')),
  payment_method_id uuid references payment_methods (id),
  wallet_id uuid references wallets (id),
  -- Hold at session start for this token (minor units); null = the configured default. Capped by configuration.
  hold_minor bigint check (hold_minor is null or hold_minor > 0),
  check (method <> 'card' or payment_method_id is not null),
  check (method <> 'wallet' or wallet_id is not null)
);

-- One payment = one provider payment (a hold and its capture, a top-up charge) or one wallet debit.
create table payments (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  kind text not null check (kind in ('session', 'adhoc', 'extra', 'wallet_top_up', 'wallet_debit')),
  provider text not null check (provider in ('sandbox', 'stripe', 'wallet')),
  session_id uuid references sessions (id),
  id_token_id uuid references id_tokens (id),
  payment_method_id uuid references payment_methods (id),
  wallet_id uuid references wallets (id),
  -- The provider's reusable or one-time card token (ad-hoc): never a card number.
  payment_method_token text,
  provider_customer_id text,
  provider_payment_id text,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  -- What was asked to hold (or charge), what the provider holds, captured and refunded: all minor units.
  requested_minor bigint not null check (requested_minor >= 0),
  authorized_minor bigint not null default 0 check (authorized_minor >= 0),
  captured_minor bigint not null default 0 check (captured_minor >= 0),
  refunded_minor bigint not null default 0 check (refunded_minor >= 0 and refunded_minor <= captured_minor),
  -- The exact amount to capture (invoice total incl. VAT) once known; null while the session runs.
  due_minor bigint check (due_minor is null or due_minor >= 0),
  invoice_id uuid,
  status text not null default 'pending' check (status in ('pending', 'requires_authentication', 'authorized',
    'captured', 'partially_refunded', 'refunded', 'voided', 'failed')),
  hold_expires_at timestamptz,
  failure_code text,
  -- For ad-hoc payments: where the remote start goes.
  station_id text,
  evse_id integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- A session has at most one hold payment (session or ad-hoc) and one extra charge.
create unique index payments_session_once on payments (session_id, kind) where session_id is not null;
create unique index payments_provider_id on payments (provider, provider_payment_id) where provider_payment_id is not null;
create index payments_status on payments (status, hold_expires_at);
create index payments_token on payments (id_token_id) where kind = 'adhoc';

-- Provider calls to make after commit. A row is the recorded intent; the worker claims it, calls the provider
-- under the row's idempotency key and records the outcome. A crash in between is resolved by the same key.
create table payment_outbox (
  id bigint generated always as identity primary key,
  payment_id uuid not null references payments (id),
  action text not null check (action in ('authorize', 'settle', 'void', 'refund', 'charge')),
  idempotency_key text not null unique check (length(idempotency_key) between 1 and 255),
  amount_minor bigint check (amount_minor is null or amount_minor >= 0),
  refund_id uuid,
  status text not null default 'pending' check (status in ('pending', 'done', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A claim: another worker leaves the row alone until this passes (a killed worker's row comes back).
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index payment_outbox_due on payment_outbox (next_attempt_at) where status = 'pending';
create index payment_outbox_payment on payment_outbox (payment_id);

create table payment_webhook_events (
  provider text not null,
  event_id text not null check (length(event_id) between 1 and 255),
  type text not null,
  provider_payment_id text,
  received_at timestamptz not null default now(),
  primary key (provider, event_id)
);

create table payment_refunds (
  id uuid primary key default gen_random_uuid(),
  payment_id uuid not null references payments (id),
  amount_minor bigint not null check (amount_minor > 0),
  reason text not null check (length(reason) between 1 and 500),
  requested_by text not null,
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
  provider_refund_id text,
  -- A full refund with a credit note clears the invoice (receivables); others are goodwill (refunds expense).
  with_credit_note boolean not null default false,
  credit_note_id uuid,
  created_at timestamptz not null default now()
);

-- Payments that failed after the retries: the driver is notified with a link to pay; blocked until paid.
create table payment_dunning (
  payment_id uuid primary key references payments (id),
  operator_id uuid not null references operators (id),
  failure_code text not null,
  notified_at timestamptz not null,
  resolved_at timestamptz
);

-- Every payment decision (hold refused, card blocked, session refused for funds): who, what, why.
create table payment_decisions (
  id bigint generated always as identity primary key,
  operator_id uuid not null references operators (id),
  subject_type text not null,
  subject_id text not null,
  decision text not null,
  reason text not null,
  at timestamptz not null default now()
);
create index payment_decisions_subject on payment_decisions (operator_id, subject_type, subject_id);
