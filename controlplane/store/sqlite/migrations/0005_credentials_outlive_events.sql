-- Credentials are aggregates that outlive the raw events retention
-- prunes, so credentials.event_id no longer references events: it still
-- names the event that carried the attempt, which may be gone. SQLite
-- cannot drop a foreign key, so the table is rebuilt.
CREATE TABLE credentials_new (
    event_id        TEXT    PRIMARY KEY,
    attacker_id     TEXT    REFERENCES attackers (id),
    time            INTEGER NOT NULL,
    agent_id        TEXT    NOT NULL,
    decky           TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    principal       TEXT    NOT NULL,
    secret_kind     TEXT    NOT NULL,
    mechanism       TEXT    NOT NULL,
    secret          BLOB    NOT NULL,
    secret_sha256   BLOB    NOT NULL,
    outcome         INTEGER NOT NULL,
    source_address  TEXT    NOT NULL,
    key_type        TEXT    NOT NULL,
    key_fingerprint TEXT    NOT NULL
);
INSERT INTO credentials_new SELECT event_id, attacker_id, time, agent_id, decky, service, principal,
    secret_kind, mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint
    FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_new RENAME TO credentials;
CREATE INDEX credentials_time ON credentials (time DESC, event_id DESC);
CREATE INDEX credentials_attacker_time ON credentials (attacker_id, time DESC, event_id DESC);
CREATE INDEX credentials_principal_time ON credentials (principal, time DESC, event_id DESC);
CREATE INDEX credentials_secret ON credentials (secret_sha256, secret_kind, principal);
