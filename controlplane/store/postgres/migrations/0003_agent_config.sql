-- The configuration the control plane pushes to each agent. The desired
-- version increases by one per SetDesiredConfig; the applied version and
-- error are what the agent reported last.
CREATE TABLE agent_configs (
    agent_id        uuid        PRIMARY KEY REFERENCES agents (id),
    desired_version bigint      NOT NULL DEFAULT 0,
    document        bytea       NOT NULL DEFAULT '',
    desired_at      timestamptz,
    applied_version bigint      NOT NULL DEFAULT 0,
    apply_error     text        NOT NULL DEFAULT '',
    reported_at     timestamptz
);
