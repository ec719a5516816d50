-- Invoice buyers encrypted at rest, and request counters shared by every node for the API's rate limits.
-- Forward-only: a later change is a new file, never an edit of this one.

-- Billing plans now hold the buyer's name, street, city and postal code sealed by the field cipher
-- (vbe1.<dataKeyId>.<ciphertext>, src/billing/invoices/invoice-buyer-cipher.ts), which is longer than the clear
-- value: the 200-character check on the name moves to the application (checked before sealing) and the column
-- keeps only an upper bound. Rows written before this migration stay in clear text until `voltbill keys rotate`
-- seals them (a migration cannot: the master key never reaches the database).
alter table invoice_billing_plans drop constraint if exists invoice_billing_plans_buyer_name_check;
alter table invoice_billing_plans add constraint invoice_billing_plans_buyer_sealed_size check (
  (buyer_name is null or length(buyer_name) between 1 and 2000)
  and (buyer_street is null or length(buyer_street) <= 2000)
  and (buyer_city is null or length(buyer_city) <= 2000)
  and (buyer_postal_code is null or length(buyer_postal_code) <= 2000)
);

-- Fixed-window request counters for the per-IP and per-credential rate limits when several nodes share one
-- PostgreSQL: one row per (bucket, window), incremented by an upsert per request. The bucket is an HMAC of the
-- client address or credential (never the address itself). Unlogged: counters need no crash safety or
-- replication, and skipping the WAL keeps the per-request write cheap. Old windows are pruned by the nodes.
create unlogged table rate_limit_windows (
  bucket text not null check (bucket ~ '^[0-9a-f]{64}$'),
  window_start timestamptz not null,
  hits integer not null default 0 check (hits >= 0),
  primary key (bucket, window_start)
);
create index rate_limit_windows_start on rate_limit_windows (window_start);
