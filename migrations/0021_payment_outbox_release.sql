-- Releasing a hold that is no longer its payment's own becomes an outbox step (issue 10's provider faults): the hold
-- a renewal replaced, and a renewal's new hold of the wrong amount. Forward-only: a later change is a new file.
--
-- Both were released by a direct provider call after the renewal's commit, never retried: refused or unanswered
-- (a provider outage, the pacer under a backlog) the hold stayed on the driver's card until it lapsed (up to seven
-- days at Stripe), and the wrong-amount one was not even recorded. As an outbox item the release is recorded in the
-- renewal's own transaction, survives a crash, and is retried under its key like every other provider call.
--
-- The item names the hold it releases (`provider_payment_id`); only a release names one, and a release always does.
alter table payment_outbox add column provider_payment_id text;
alter table payment_outbox drop constraint payment_outbox_action_check;
alter table payment_outbox add constraint payment_outbox_action_check
  check (action in ('authorize', 'settle', 'void', 'refund', 'charge', 'renew', 'release'));
alter table payment_outbox add constraint payment_outbox_release_names_hold
  check ((action = 'release') = (provider_payment_id is not null));
