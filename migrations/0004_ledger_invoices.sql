-- Double-entry ledger, invoices with gapless numbers, credit notes, and the seller data invoices print.
-- Forward-only: a later change is a new file, never an edit of this one.

-- Chart of accounts, per operator and currency. A code names the account's purpose and, after colons, its
-- sub-ledger: 'charging_revenue', 'vat_payable:DEU:19', 'customer_receivables:token:<uuid>',
-- 'provider_clearing:stripe'. Accounts are created on first use (src/ledger/accounts.ts); their ids are derived
-- from (operator, code, currency), so every node computes the same id without reading the table first.
create table ledger_accounts (
  id uuid primary key,
  operator_id uuid not null references operators (id),
  code text not null check (code ~ '^[a-z_]+(:[A-Za-z0-9._*-]+)*$' and length(code) <= 200),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  -- Normal balance side: asset and expense accounts grow with debits, the others with credits.
  kind text not null check (kind in ('asset', 'liability', 'revenue', 'expense', 'equity')),
  created_at timestamptz not null default now(),
  unique (operator_id, code, currency),
  unique (id, currency)
);

-- One transfer moves money between accounts of one operator in one currency; its postings sum to zero (checked by
-- the trigger below). Kinds: 'posted' (final), 'pending' (a hold: reserves, does not count in posted balances),
-- 'post_pending' and 'void_pending' (resolve a hold exactly once), 'reversal' (undoes a transfer exactly once).
create table ledger_transfers (
  id uuid primary key,
  operator_id uuid not null references operators (id),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  kind text not null check (kind in ('posted', 'pending', 'post_pending', 'void_pending', 'reversal')),
  -- Derived from the cause ('session:<id>:billed', 'capture:<id>', ...): a retry posts nothing the second time.
  idempotency_key text not null check (length(idempotency_key) between 1 and 200),
  -- SHA-256 of the transfer's content, so that a key reused for different postings is refused, never ignored.
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  cause_type text not null check (cause_type ~ '^[a-z_]{1,40}$'),
  cause_id text not null check (length(cause_id) between 1 and 200),
  -- The invoice the money belongs to, where there is one (captures and refunds name it for reconciliation).
  invoice_id uuid,
  pending_id uuid references ledger_transfers (id),
  reverses_id uuid references ledger_transfers (id),
  description text not null default '' check (length(description) <= 500),
  created_at timestamptz not null default now(),
  unique (operator_id, idempotency_key),
  check ((kind in ('post_pending', 'void_pending')) = (pending_id is not null)),
  check ((kind = 'reversal') = (reverses_id is not null))
);
-- A hold is resolved at most once (posted or voided), and a transfer is reversed at most once.
create unique index ledger_transfers_pending_once on ledger_transfers (pending_id) where pending_id is not null;
create unique index ledger_transfers_reversed_once on ledger_transfers (reverses_id) where reverses_id is not null;
create index ledger_transfers_cause on ledger_transfers (operator_id, cause_type, cause_id);
create index ledger_transfers_invoice on ledger_transfers (invoice_id) where invoice_id is not null;
create index ledger_transfers_created on ledger_transfers (operator_id, created_at);

-- Signed amounts in minor units: debit positive, credit negative. Balances are sums of postings per account (the
-- index covers them), so no balance row is updated by every transfer and concurrent transfers never queue on one.
create table ledger_postings (
  id bigint generated always as identity primary key,
  transfer_id uuid not null references ledger_transfers (id),
  account_id uuid not null,
  currency text not null,
  amount_minor bigint not null check (amount_minor <> 0),
  -- Postings of a pending transfer count as reserved until the hold is resolved, never as posted.
  pending boolean not null default false,
  foreign key (account_id, currency) references ledger_accounts (id, currency)
);
create index ledger_postings_account on ledger_postings (account_id, pending) include (amount_minor);
create index ledger_postings_transfer on ledger_postings (transfer_id);

-- Every statement that inserts postings must leave each transfer it touches balanced and in one currency; the
-- application asserts the same before it writes (src/ledger/post-transfer.ts). A transfer's postings are always
-- inserted in one statement, so a per-statement check is exact and costs one pass over the inserted rows.
create function voltbill_ledger_check_balanced() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select p.transfer_id, sum(p.amount_minor) as total, count(distinct p.currency) as currencies
    into bad
    from inserted p
    group by p.transfer_id
    having sum(p.amount_minor) <> 0 or count(distinct p.currency) <> 1
    limit 1;
  if found then
    raise exception 'ledger transfer % is unbalanced (sum %, currencies %)', bad.transfer_id, bad.total, bad.currencies
      using errcode = 'P0001';
  end if;
  return null;
end
$$;
create trigger ledger_postings_balanced after insert on ledger_postings
  referencing new table as inserted for each statement execute function voltbill_ledger_check_balanced();

create trigger ledger_transfers_append_only before update or delete on ledger_transfers
  for each row execute function voltbill_refuse_change();
create trigger ledger_postings_append_only before update or delete on ledger_postings
  for each row execute function voltbill_refuse_change();

-- The seller as invoices print it (legal name, address, VAT id). One row per operator; a change applies to
-- invoices issued after it, because every invoice keeps its own copy of the seller.
create table invoice_sellers (
  operator_id uuid primary key references operators (id),
  legal_name text not null check (length(legal_name) between 1 and 200),
  street text not null check (length(street) between 1 and 200),
  city text not null check (length(city) between 1 and 100),
  postal_code text not null check (length(postal_code) between 1 and 20),
  -- ISO 3166-1 alpha-2, as EN 16931 wants it.
  country_code text not null check (country_code ~ '^[A-Z]{2}$'),
  vat_id text check (vat_id is null or vat_id ~ '^[A-Z]{2}[A-Za-z0-9+*.]{2,13}$'),
  email text,
  iban text,
  payment_terms_days integer not null default 14 check (payment_terms_days between 0 and 365)
);

-- How an id token's sessions are invoiced: 'per_session' (ad-hoc and card-on-file drivers; the default for a
-- token with no row) or 'monthly' (contract customers and fleets get one statement per calendar month).
-- customer_id links the token to a customer account once those exist (nullable until then).
create table invoice_billing_plans (
  id_token_id uuid primary key references id_tokens (id),
  operator_id uuid not null references operators (id),
  mode text not null check (mode in ('per_session', 'monthly')),
  customer_id uuid,
  buyer_name text check (buyer_name is null or length(buyer_name) between 1 and 200),
  buyer_vat_id text check (buyer_vat_id is null or buyer_vat_id ~ '^[A-Z]{2}[A-Za-z0-9+*.]{2,13}$'),
  buyer_street text,
  buyer_city text,
  buyer_postal_code text,
  buyer_country_code text check (buyer_country_code is null or buyer_country_code ~ '^[A-Z]{2}$')
);

-- The next number of each operator's invoice series. Issuing locks the row FOR UPDATE in the issuing
-- transaction: the number commits or rolls back together with its invoice, so numbers have no gaps and no
-- duplicates across concurrent requests, restarts and nodes.
create table invoice_counters (
  operator_id uuid not null references operators (id),
  series text not null check (series ~ '^[A-Z]{1,8}$'),
  next_number bigint not null default 1 check (next_number >= 1),
  primary key (operator_id, series)
);

create table invoices (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null references operators (id),
  kind text not null check (kind in ('invoice', 'statement', 'credit_note')),
  series text not null,
  number bigint not null check (number >= 1),
  invoice_number text not null,
  -- A credit note names the invoice it corrects; an invoice is credited at most once (credit notes are full).
  credits_invoice_id uuid references invoices (id),
  id_token_id uuid references id_tokens (id),
  -- Set when customer accounts exist and the token belongs to one; nullable until then.
  customer_id uuid,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  total_excl_vat_minor bigint not null,
  total_vat_minor bigint not null,
  total_incl_vat_minor bigint not null,
  -- The whole invoice document as issued (seller, buyer, lines, VAT breakdown, session details): renderings
  -- read only this, so a later change to a station or a seller never changes an issued invoice.
  document jsonb not null,
  issued_at timestamptz not null,
  -- Tax point (date of supply) in the seller's calendar: the session's end, or the statement period's end.
  tax_point_date date not null,
  period_start timestamptz,
  period_end timestamptz,
  unique (operator_id, series, number),
  unique (operator_id, invoice_number),
  check ((kind = 'credit_note') = (credits_invoice_id is not null)),
  check (total_incl_vat_minor = total_excl_vat_minor + total_vat_minor)
);
create unique index invoices_credited_once on invoices (credits_invoice_id) where credits_invoice_id is not null;
create index invoices_operator_issued on invoices (operator_id, issued_at desc);
create index invoices_token on invoices (id_token_id, issued_at desc);

-- Which sessions an invoice bills: a session is on exactly one invoice (statement or per-session invoice).
create table invoice_sessions (
  invoice_id uuid not null references invoices (id),
  session_id uuid not null unique references sessions (id),
  cdr_id uuid not null references cdrs (id),
  total_excl_vat_minor bigint not null,
  total_incl_vat_minor bigint not null,
  primary key (invoice_id, session_id)
);

create trigger invoices_append_only before update or delete on invoices
  for each row execute function voltbill_refuse_change();
create trigger invoice_sessions_append_only before update or delete on invoice_sessions
  for each row execute function voltbill_refuse_change();

-- Results of `voltbill reconcile` and of the scheduled job: what was checked and what differed.
create table reconciliation_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  period_from timestamptz,
  period_to timestamptz,
  clean boolean not null,
  differences integer not null check (differences >= 0),
  report jsonb not null
);
