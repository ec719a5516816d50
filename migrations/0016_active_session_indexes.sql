-- Lookups of running sessions read only running sessions (issue 10: fast at the scale of years of history).
-- Forward-only: a later change is a new file, never an edit of this one.
--
-- Every Authorize and every start asks whether the idTag is charging elsewhere, and every StatusNotification with a
-- charging state, and a start, look for the Active session of an EVSE. The only indexes were by operator and by
-- station, ordered by start: the first lookup read every session the operator ever had, the second every session
-- of the station when none was running. Active sessions are a few per EVSE, sessions over the years millions, so
-- these partial indexes hold only the running ones (a session leaves them when it completes). The queries that use
-- them name status = 'Active' as a literal, not a parameter: only then can the generic plan of a prepared statement
-- use a partial index. The background sweeps over running sessions (holds, wallets) and the live view use them too.
create index sessions_active_evse on sessions (station_id, evse_id, started_at desc) where status = 'Active';
create index sessions_active_id_tag on sessions (operator_id, upper(id_tag)) where status = 'Active';
