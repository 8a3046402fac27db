-- Session recordings are kept apart from the events that carried them, so
-- event pages and live streams stay small, and like credentials they are
-- aggregates that retention of raw events keeps.
CREATE TABLE recordings (
    event_id       uuid        PRIMARY KEY,
    session_id     text        NOT NULL,
    attacker_id    uuid,
    agent_id       uuid        NOT NULL,
    decky          text        NOT NULL,
    service        text        NOT NULL,
    source_address text        NOT NULL,
    time           timestamptz NOT NULL,
    duration_ms    bigint      NOT NULL,
    truncated      boolean     NOT NULL,
    width          integer     NOT NULL,
    height         integer     NOT NULL,
    input_bytes    bigint      NOT NULL,
    output_bytes   bigint      NOT NULL,
    cast_data      bytea       NOT NULL
);
CREATE INDEX recordings_session ON recordings (session_id);
CREATE INDEX recordings_time ON recordings (time DESC, event_id DESC);
CREATE INDEX recordings_attacker_time ON recordings (attacker_id, time DESC, event_id DESC);
