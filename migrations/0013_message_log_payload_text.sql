-- The message log keeps each payload as the text that travelled (issue 10, gateway throughput).
-- Forward-only: a later change is a new file, never an edit of this one.
--
-- `ocpp_messages.payload` was jsonb: PostgreSQL parsed and re-encoded every payload of every frame, received and
-- sent, on the path of every message (measured: about a third of the database's CPU per meter value), and jsonb
-- reorders keys, drops duplicate keys and normalizes numbers, so the log did not even hold the frame as it was.
-- As text it holds the payload byte for byte; the gateway has already checked that the frame is JSON, and readers
-- that want JSON operators cast (`payload::jsonb`). Rewrites the table once; rows keep their ids and order.
alter table ocpp_messages alter column payload type text using payload::text;
