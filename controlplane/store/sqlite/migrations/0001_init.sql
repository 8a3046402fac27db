-- Initial schema. Times are Unix nanoseconds in UTC; NULL means "not set".

-- An attacker is keyed by a UUIDv7 assigned on first sight. Addresses are
-- values attached to it, so they can move to another attacker later.
CREATE TABLE attackers (
    id                 TEXT    PRIMARY KEY,
    first_seen         INTEGER NOT NULL,
    last_seen          INTEGER NOT NULL,
    event_count        INTEGER NOT NULL DEFAULT 0,
    auth_attempt_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attackers_last_seen ON attackers (last_seen DESC, id DESC);

-- One attacker per address for now; the primary key enforces it.
CREATE TABLE attacker_addresses (
    address     TEXT    PRIMARY KEY,
    attacker_id TEXT    NOT NULL REFERENCES attackers (id),
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
);
CREATE INDEX attacker_addresses_attacker ON attacker_addresses (attacker_id);

-- Deckies and services each attacker touched.
CREATE TABLE attacker_targets (
    attacker_id TEXT    NOT NULL REFERENCES attackers (id),
    decky       TEXT    NOT NULL,
    service     TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (attacker_id, decky, service)
) WITHOUT ROWID;

-- payload is the marshalled decnet.event.v1.Event; the other columns copy
-- its fields for filtering and indexing.
CREATE TABLE events (
    id          TEXT    PRIMARY KEY,
    time        INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    agent_id    TEXT    NOT NULL,
    decky       TEXT    NOT NULL,
    service     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    src_addr    TEXT    NOT NULL,
    src_port    INTEGER NOT NULL,
    dst_addr    TEXT    NOT NULL,
    dst_port    INTEGER NOT NULL,
    session_id  TEXT    NOT NULL,
    attacker_id TEXT    REFERENCES attackers (id),
    payload     BLOB    NOT NULL
);
CREATE INDEX events_time ON events (time DESC, id DESC);
CREATE INDEX events_attacker_time ON events (attacker_id, time DESC, id DESC);
CREATE INDEX events_src_addr_time ON events (src_addr, time DESC, id DESC);
CREATE INDEX events_kind_time ON events (kind, time DESC, id DESC);
CREATE INDEX events_agent_time ON events (agent_id, time DESC, id DESC);
CREATE INDEX events_session ON events (session_id);

-- One row per authentication attempt, keyed by the event that carried it.
CREATE TABLE credentials (
    event_id        TEXT    PRIMARY KEY REFERENCES events (id),
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
CREATE INDEX credentials_time ON credentials (time DESC, event_id DESC);
CREATE INDEX credentials_attacker_time ON credentials (attacker_id, time DESC, event_id DESC);
CREATE INDEX credentials_principal_time ON credentials (principal, time DESC, event_id DESC);
-- Credential reuse is found by the same secret hash, kind and principal.
CREATE INDEX credentials_secret ON credentials (secret_sha256, secret_kind, principal);

-- Bootstrap tokens, stored only as the SHA-256 of their secret.
CREATE TABLE tokens (
    hash       BLOB    PRIMARY KEY,
    agent_id   TEXT    NOT NULL,
    agent_name TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE agents (
    id                     TEXT    PRIMARY KEY,
    name                   TEXT    NOT NULL,
    enrolled_at            INTEGER,
    last_seen              INTEGER,
    version                TEXT    NOT NULL DEFAULT '',
    certificate_serial     TEXT    NOT NULL DEFAULT '',
    certificate_expires_at INTEGER
);

CREATE TABLE users (
    username      TEXT    PRIMARY KEY,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- API sessions, stored only as the SHA-256 of their bearer token.
CREATE TABLE api_sessions (
    token_hash BLOB    PRIMARY KEY,
    username   TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX api_sessions_expires ON api_sessions (expires_at);
