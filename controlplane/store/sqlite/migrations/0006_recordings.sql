-- Session recordings are kept apart from the events that carried them, so
-- event pages and live streams stay small, and like credentials they are
-- aggregates that retention of raw events keeps.
CREATE TABLE recordings (
    event_id       TEXT    PRIMARY KEY,
    session_id     TEXT    NOT NULL,
    attacker_id    TEXT,
    agent_id       TEXT    NOT NULL,
    decky          TEXT    NOT NULL,
    service        TEXT    NOT NULL,
    source_address TEXT    NOT NULL,
    time           INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    truncated      INTEGER NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    input_bytes    INTEGER NOT NULL,
    output_bytes   INTEGER NOT NULL,
    cast_data      BLOB    NOT NULL
);
CREATE INDEX recordings_session ON recordings (session_id);
CREATE INDEX recordings_time ON recordings (time DESC, event_id DESC);
CREATE INDEX recordings_attacker_time ON recordings (attacker_id, time DESC, event_id DESC);
