-- Decommissioned agents keep their row, so their events still name them;
-- revoked_at (Unix nanoseconds) is set once and never cleared.
ALTER TABLE agents ADD COLUMN revoked_at INTEGER;
