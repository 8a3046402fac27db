-- Every ingested event writes an entry in each index of events, and two
-- of them serve no query, so they only slowed ingest.
--
-- No query filters or sorts events by session_id; the overview counts a
-- window's sessions through the time index.
DROP INDEX IF EXISTS events_session;

-- Events of one source address are found through the attacker of that
-- address (events_attacker_time): an address never changes attacker, and
-- every event with a source address names the attacker of that address.
DROP INDEX IF EXISTS events_src_addr_time;
