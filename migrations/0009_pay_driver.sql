-- The driver's side of an ad-hoc (QR code) payment: what the pay page needs to follow its session and that the
-- payments table does not hold. One row per ad-hoc payment, written when the driver starts it.
-- Forward-only: a later change is a new file, never an edit of this one.
-- The driver's status secret is not stored: it is an HMAC of the payment id under the blind-index key
-- (src/api/routes/pay-driver.ts), so it survives restarts and works on every node without a lookup table.

create table pay_driver_links (
  payment_id uuid primary key references payments (id),
  -- What the station answered to RemoteStartTransaction / RequestStartTransaction when the hold was in place.
  remote_start text not null check (remote_start in ('Accepted', 'Rejected', 'Unavailable', 'NotYet')),
  -- The optional receipt email, sealed with the field cipher (vbe1.<key>.<ciphertext>); never in clear text.
  receipt_email_enc text check (receipt_email_enc is null or length(receipt_email_enc) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
