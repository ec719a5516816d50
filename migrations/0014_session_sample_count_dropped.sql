-- Sessions no longer carry a running count of their meter samples (issue 10, gateway throughput).
-- Forward-only: a later change is a new file, never an edit of this one.
--
-- `sessions.sample_count` was raised by every batch of samples, which made every batch also an UPDATE of each
-- charging session's row (a new row version each time; measured: about 15 % of the database's CPU per meter value).
-- Its one use, the per-session sample limit, now counts the stored samples (the primary key's index) when the node
-- first meets a session and when a session nears its limit (src/sessions/session-service.ts).
alter table sessions drop column sample_count;
