-- The configuration the control plane pushes to each agent. The desired
-- version increases by one per SetDesiredConfig; the applied version and
-- error are what the agent reported last. Times are Unix nanoseconds.
CREATE TABLE agent_configs (
    agent_id        TEXT    PRIMARY KEY REFERENCES agents (id),
    desired_version INTEGER NOT NULL DEFAULT 0,
    document        BLOB    NOT NULL DEFAULT x'',
    desired_at      INTEGER,
    applied_version INTEGER NOT NULL DEFAULT 0,
    apply_error     TEXT    NOT NULL DEFAULT '',
    reported_at     INTEGER
);
