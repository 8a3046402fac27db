-- Tokens for automation. Only the SHA-256 of the secret is stored; a
-- token acts as its user, limited to its role.
CREATE TABLE api_tokens (
    id         TEXT    PRIMARY KEY,
    hash       BLOB    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    username   TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (username);
