-- Ingest used to rewrite the attacker, address and target rows of every
-- batch inside the batch's transaction: about three row updates per
-- attacker per batch. Each batch now records its aggregate changes as one
-- row here, in the same transaction as its events, and a separate
-- transaction folds many batches' rows into the aggregates at once and
-- deletes them. A change is therefore never lost and never applied twice.
CREATE TABLE attacker_deltas (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deltas bytea  NOT NULL
);

-- Each event and credential row checked its attacker through a foreign
-- key, one index lookup per row run as a trigger, which cost ingest more
-- than the row itself. The ingest transaction creates an attacker before
-- any row that names it and deletes only attackers that no row names, so
-- the check never failed.
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_attacker_id_fkey;
ALTER TABLE credentials DROP CONSTRAINT IF EXISTS credentials_attacker_id_fkey;

-- Events of one source address are found through the attacker of that
-- address (events_attacker_time), so a separate address index only cost
-- every insert.
DROP INDEX IF EXISTS events_src_addr_time;
