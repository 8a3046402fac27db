-- Every ingested batch inserts events and rewrites the aggregate rows of
-- its attackers, so these changes cut the pages and WAL each batch writes.
--
-- No query filters or sorts events by session_id, and its values are
-- random, so every insert wrote a leaf page of this index at a random
-- place. A session filter, when one is added, can create it again.
DROP INDEX IF EXISTS events_session;

-- The attacker, address and target rows are updated by nearly every
-- batch. Free space on their pages lets an update put the new row version
-- on the same page, as a heap-only update when no indexed column changed,
-- instead of a new index entry. It applies to pages written from now on.
ALTER TABLE attackers SET (fillfactor = 70);
ALTER TABLE attacker_addresses SET (fillfactor = 70);
ALTER TABLE attacker_targets SET (fillfactor = 70);
