-- A payment is worked by one outbox step at a time, across every node (issue 10 / payments).
-- Forward-only: a later change is a new file, never an edit of this one.
--
-- The steps of one payment read its row and then call the provider: an unknown refund outcome is judged by the
-- payment's refunded total, a settle by whether its hold is still being placed or renewed. Two steps of one payment
-- at once (two partial refunds issued together, on two nodes) could misjudge each other and book a refund that never
-- happened. The claim of an outbox item therefore also leases its payment until the same moment as the item's own
-- lease: a claim skips payments under a live lease, the worker clears the lease when the step ends, and a killed
-- worker's lease lapses with its item's. NULL: no step is being worked. Not money: not audited, not in `updated_at`.
alter table payments add column outbox_lease_until timestamptz;
