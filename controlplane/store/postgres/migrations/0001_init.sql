-- Initial schema. Times are timestamptz, so they keep microseconds; NULL
-- means "not set". Addresses are text in the canonical form the store
-- normalises to ("192.0.2.1", never "192.0.2.1/32"), so the API returns
-- them as stored, and text that is not an IP address is kept as well.

-- An attacker is keyed by a UUIDv7 assigned on first sight. Addresses are
-- values attached to it, so they can move to another attacker later.
CREATE TABLE attackers (
    id                 uuid        PRIMARY KEY,
    first_seen         timestamptz NOT NULL,
    last_seen          timestamptz NOT NULL,
    event_count        bigint      NOT NULL DEFAULT 0,
    auth_attempt_count bigint      NOT NULL DEFAULT 0
);
CREATE INDEX attackers_last_seen ON attackers (last_seen DESC, id DESC);

-- One attacker per address for now; the primary key enforces it.
CREATE TABLE attacker_addresses (
    address     text        PRIMARY KEY,
    attacker_id uuid        NOT NULL REFERENCES attackers (id),
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL
);
CREATE INDEX attacker_addresses_attacker ON attacker_addresses (attacker_id);

-- Deckies and services each attacker touched.
CREATE TABLE attacker_targets (
    attacker_id uuid        NOT NULL REFERENCES attackers (id),
    decky       text        NOT NULL,
    service     text        NOT NULL,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    PRIMARY KEY (attacker_id, decky, service)
);

-- payload is the marshalled decnet.event.v1.Event; the other columns copy
-- its fields for filtering and indexing.
--
-- The table is partitioned by day on id_time, the millisecond timestamp
-- inside the UUIDv7 id. id_time is a function of id, so the unique key
-- (id, id_time) that partitioning requires is as strict as one on id
-- alone, and deduplication stays exact. Partitions are created on demand
-- for the days a batch touches (see partitions.go). time is the event's
-- own time; lists sort on it.
CREATE TABLE events (
    id          uuid        NOT NULL,
    id_time     timestamptz NOT NULL,
    time        timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    agent_id    uuid        NOT NULL,
    decky       text        NOT NULL,
    service     text        NOT NULL,
    kind        text        NOT NULL,
    src_addr    text        NOT NULL,
    src_port    bigint      NOT NULL,
    dst_addr    text        NOT NULL,
    dst_port    bigint      NOT NULL,
    session_id  text        NOT NULL,
    attacker_id uuid        REFERENCES attackers (id),
    payload     bytea       NOT NULL,
    PRIMARY KEY (id, id_time)
) PARTITION BY RANGE (id_time);
CREATE INDEX events_time ON events (time DESC, id DESC);
CREATE INDEX events_attacker_time ON events (attacker_id, time DESC, id DESC);
CREATE INDEX events_src_addr_time ON events (src_addr, time DESC, id DESC);
CREATE INDEX events_kind_time ON events (kind, time DESC, id DESC);
CREATE INDEX events_agent_time ON events (agent_id, time DESC, id DESC);
CREATE INDEX events_session ON events (session_id);

-- One row per authentication attempt, keyed by the event that carried it.
CREATE TABLE credentials (
    event_id        uuid        PRIMARY KEY,
    event_id_time   timestamptz NOT NULL,
    attacker_id     uuid        REFERENCES attackers (id),
    time            timestamptz NOT NULL,
    agent_id        uuid        NOT NULL,
    decky           text        NOT NULL,
    service         text        NOT NULL,
    principal       text        NOT NULL,
    secret_kind     text        NOT NULL,
    mechanism       text        NOT NULL,
    secret          bytea       NOT NULL,
    secret_sha256   bytea       NOT NULL,
    outcome         integer     NOT NULL,
    source_address  text        NOT NULL,
    key_type        text        NOT NULL,
    key_fingerprint text        NOT NULL,
    FOREIGN KEY (event_id, event_id_time) REFERENCES events (id, id_time)
);
CREATE INDEX credentials_time ON credentials (time DESC, event_id DESC);
CREATE INDEX credentials_attacker_time ON credentials (attacker_id, time DESC, event_id DESC);
CREATE INDEX credentials_principal_time ON credentials (principal, time DESC, event_id DESC);
-- Credential reuse is found by the same secret hash, kind and principal.
CREATE INDEX credentials_secret ON credentials (secret_sha256, secret_kind, principal);

-- Bootstrap tokens, stored only as the SHA-256 of their secret.
CREATE TABLE tokens (
    hash       bytea       PRIMARY KEY,
    agent_id   uuid        NOT NULL,
    agent_name text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE TABLE agents (
    id                     uuid        PRIMARY KEY,
    name                   text        NOT NULL,
    enrolled_at            timestamptz,
    last_seen              timestamptz,
    version                text        NOT NULL DEFAULT '',
    certificate_serial     text        NOT NULL DEFAULT '',
    certificate_expires_at timestamptz
);

CREATE TABLE users (
    username      text        PRIMARY KEY,
    password_hash text        NOT NULL,
    role          text        NOT NULL,
    created_at    timestamptz NOT NULL
);

-- API sessions, stored only as the SHA-256 of their bearer token.
CREATE TABLE api_sessions (
    token_hash bytea       PRIMARY KEY,
    username   text        NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX api_sessions_expires ON api_sessions (expires_at);
