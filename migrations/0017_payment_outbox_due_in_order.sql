-- The payment worker's claim reads the first due item, not every due item (issue 10: the backlog after a burst).
-- Forward-only: a later change is a new file, never an edit of this one.
--
-- A claim takes the first pending item in (next_attempt_at, id) order. The index by next_attempt_at alone could not
-- give that order, so every claim read every due item, joined each with its payment and sorted them to keep one:
-- with 1,400 captures queued after a burst of stops, 2.3 ms of PostgreSQL time per claim, and a backlog that drains
-- more slowly the longer it is. With the id in the index the claim walks the due items in order and stops at the
-- first it can lock (SKIP LOCKED passes over the few that other lanes hold). The old index is a prefix of the new one.
create index payment_outbox_due_in_order on payment_outbox (next_attempt_at, id) where status = 'pending';
drop index payment_outbox_due;
