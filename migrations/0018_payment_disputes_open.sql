-- The open disputes, for the check every Authorize and start of a paying token makes (issue 10: reads that do not
-- grow with the history). Forward-only: a later change is a new file, never an edit of this one.
--
-- A driver with an open dispute (a chargeback under way) is refused until it is settled. The check read every
-- payment ever made for the token's or card's payments with an open dispute; it now reads the open disputes, which
-- are few whatever the history (disputes close as won or lost), and each one's payment by its key.
create index payment_disputes_open on payment_disputes (payment_id) where status = 'open';
