-- Attacker lists sort by first seen and by the event and authentication
-- attempt counts as well as by last seen. Ties are broken by id, so each
-- index ends with it; SQLite reads one index in either direction.
--
-- The count indexes cost one more index write per attacker update, and
-- nearly every ingested batch updates its attackers' counts. Without them
-- a sorted page reads and sorts the whole table.
CREATE INDEX attackers_first_seen ON attackers (first_seen DESC, id DESC);
CREATE INDEX attackers_event_count ON attackers (event_count DESC, id DESC);
CREATE INDEX attackers_auth_attempt_count ON attackers (auth_attempt_count DESC, id DESC);

-- The service and decky filters look attackers up by target, and the
-- primary key leads with the attacker. The decky index serves a decky and
-- service pair as well.
CREATE INDEX attacker_targets_service ON attacker_targets (service, attacker_id);
CREATE INDEX attacker_targets_decky ON attacker_targets (decky, service, attacker_id);
