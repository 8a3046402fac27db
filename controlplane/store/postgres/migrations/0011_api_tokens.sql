-- Tokens for automation. Only the SHA-256 of the secret is stored; a
-- token acts as its user, limited to its role.
CREATE TABLE api_tokens (
    id         uuid        PRIMARY KEY,
    hash       bytea       NOT NULL UNIQUE,
    name       text        NOT NULL,
    username   text        NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role       text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (username);
