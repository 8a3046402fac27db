-- Bootstrap tokens carry operator labels (a JSON object of strings) that
-- enrollment copies to the agent, and can be revoked before use;
-- revoked_at is set once.
ALTER TABLE tokens ADD COLUMN labels jsonb NOT NULL DEFAULT '{}';
ALTER TABLE tokens ADD COLUMN revoked_at timestamptz;
ALTER TABLE agents ADD COLUMN labels jsonb NOT NULL DEFAULT '{}';
CREATE INDEX tokens_agent_id ON tokens (agent_id);
