-- An OCPP 2.0.1 reading applied as it was stored (its samples written by the same statement, issue 10) keeps no
-- payload of its own. Forward-only: a later change is a new file, never an edit of this one.
--
-- The payload of such a reading was written three times: in the message log (the frame as it travelled, which stays
-- the record of what the station sent), in its event row, and as its samples. The event row's copy was read by
-- nothing but the end of a transaction whose Ended event had no register reading (which now reads the samples) and
-- the warning for a repeated seqNo with other content. It was 43 % of the disk of a reading (820 of 1,886 bytes) and
-- a jsonb value to parse and store in every reading's statement.
--
-- Any other event (Started, Ended, an Updated event stored pending, applied later) keeps its payload: the general
-- path reads it. The check says so, and that a row without one has been applied.
alter table ocpp_transaction_events alter column payload drop not null;
alter table ocpp_transaction_events add constraint ocpp_transaction_events_payload_kept
  check (payload is not null or (event_type = 'Updated' and applied_at is not null));
