-- The velocity counts of every Authorize and start of a paying token (issue 10: reads that do not grow with the
-- history). Forward-only: a later change is a new file, never an edit of this one.
--
-- The token's starts of the hour and the card's starts of the hour each have their index, (id_token_id, at) and
-- (payment_method_id, at), with the same predicate. That made either index usable for either count: with the
-- statistics of a young table (before autovacuum's next analyze) PostgreSQL counted a token's starts through the
-- card index, by its second column only, reading every start of the last hour of every driver (seen under the
-- end-to-end benchmark: 1,100 index entries and 548 buffers per Authorize after 10 s). Each index now also requires
-- its own column to be set, which only its own count implies (an equality on the column): the token's count can no
-- longer use the card's index, nor the card's the token's.
drop index authorization_decisions_token_starts;
create index authorization_decisions_token_starts on authorization_decisions (id_token_id, at)
  where purpose = 'start' and status = 'Accepted' and id_token_id is not null;
drop index authorization_decisions_method_starts;
create index authorization_decisions_method_starts on authorization_decisions (payment_method_id, at)
  where purpose = 'start' and status = 'Accepted' and payment_method_id is not null;
