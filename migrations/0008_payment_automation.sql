-- Payment automation: authorization decisions (wallet balance, velocity, blocked or failed cards, open disputes),
-- dunning pay links, provider disputes, and the notification outbox (operator webhooks, e-mail outbox).
-- Forward-only: a later change is a new file, never an edit of this one.

-- Every payment-side authorization decision for an id token at Authorize or at a session start, accepted or not:
-- support staff see why a driver was refused, and the velocity limits count the accepted starts here.
create table authorization_decisions (
  id bigint generated always as identity primary key,
  operator_id uuid not null references operators (id),
  id_token_id uuid references id_tokens (id),
  id_tag text not null,
  payment_method_id uuid references payment_methods (id),
  station_id text,
  evse_id integer,
  purpose text not null check (purpose in ('authorize', 'start')),
  status text not null check (status in ('Accepted', 'Blocked', 'Invalid', 'Expired', 'ConcurrentTx')),
  reason text not null check (length(reason) between 1 and 200),
  detail text,
  session_id uuid references sessions (id),
  at timestamptz not null
);
create index authorization_decisions_operator on authorization_decisions (operator_id, at desc);
create index authorization_decisions_token_starts on authorization_decisions (id_token_id, at)
  where purpose = 'start' and status = 'Accepted';
create index authorization_decisions_method_starts on authorization_decisions (payment_method_id, at)
  where purpose = 'start' and status = 'Accepted';

-- A dunning payment is the driver paying a failed payment's amount through the pay link (any card).
alter table payments drop constraint payments_kind_check;
alter table payments add constraint payments_kind_check
  check (kind in ('session', 'adhoc', 'extra', 'wallet_top_up', 'wallet_debit', 'dunning'));
alter table payments add column settles_payment_id uuid references payments (id);
create index payments_settles on payments (settles_payment_id) where settles_payment_id is not null;
-- At most one dunning payment of a failed payment is captured (a second pay-link attempt after success is refused
-- before it reaches the provider; this index makes a race between two attempts book once).
create unique index payments_dunning_paid_once on payments (settles_payment_id)
  where kind = 'dunning' and status in ('captured', 'partially_refunded', 'refunded');

alter table payment_dunning add column amount_minor bigint check (amount_minor is null or amount_minor >= 0);
alter table payment_dunning add column currency text;
alter table payment_dunning add column paid_by_payment_id uuid references payments (id);

-- Hold renewal: the hold a renewal replaced (voided after the new one is in place).
alter table payments add column renewed_from_provider_payment_id text;
alter table payment_outbox drop constraint payment_outbox_action_check;
alter table payment_outbox add constraint payment_outbox_action_check
  check (action in ('authorize', 'settle', 'void', 'refund', 'charge', 'renew'));

-- Provider disputes (chargebacks). Open disputes block the customer's tokens; a lost one gets a credit note and a
-- ledger transfer. One row per provider dispute: duplicate and out-of-order webhooks move it only forward.
create table payment_disputes (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  payment_id uuid not null references payments (id),
  provider text not null,
  provider_dispute_id text not null check (length(provider_dispute_id) between 1 and 255),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  amount_minor bigint not null check (amount_minor >= 0),
  reason text not null,
  status text not null check (status in ('open', 'won', 'lost')),
  credit_note_id uuid,
  opened_at timestamptz not null,
  closed_at timestamptz,
  unique (provider, provider_dispute_id)
);
create index payment_disputes_payment on payment_disputes (payment_id);

-- Operator-configured outbound webhook endpoints. The signing secret is encrypted at rest (field cipher).
create table notification_endpoints (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  url text not null check (length(url) between 8 and 2000),
  secret_enc text not null,
  -- Event types delivered; empty = all.
  event_types text[] not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now()
);

-- The notification outbox: written in the same transaction as the event it reports, fanned out by a worker.
create table notifications (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  type text not null check (length(type) between 1 and 100),
  -- At most one notification per key (a repeated event notifies once).
  dedupe_key text not null unique check (length(dedupe_key) between 1 and 300),
  id_token_id uuid references id_tokens (id),
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'dispatched')),
  created_at timestamptz not null,
  dispatched_at timestamptz
);
create index notifications_pending on notifications (created_at) where status = 'pending';

create table notification_deliveries (
  id bigint generated always as identity primary key,
  notification_id uuid not null references notifications (id),
  endpoint_id uuid not null references notification_endpoints (id),
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  locked_until timestamptz,
  last_error text,
  response_status integer,
  delivered_at timestamptz,
  unique (notification_id, endpoint_id)
);
create index notification_deliveries_due on notification_deliveries (next_attempt_at) where status = 'pending';

-- Rendered e-mails for a mail relay to send (no SMTP here). Recipient and body are personal data: encrypted.
create table email_outbox (
  id bigint generated always as identity primary key,
  operator_id uuid not null references operators (id),
  notification_id uuid not null unique references notifications (id),
  recipient_enc text not null,
  subject text not null,
  body_enc text not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  created_at timestamptz not null,
  sent_at timestamptz
);
create index email_outbox_pending on email_outbox (created_at) where status = 'pending';
