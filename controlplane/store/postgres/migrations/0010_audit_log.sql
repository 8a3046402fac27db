-- Every change made through the API, by whom, with the request and the
-- outcome. Retention of raw events does not touch it.
CREATE TABLE audit_log (
    id        uuid        PRIMARY KEY,
    time      timestamptz NOT NULL,
    username  text        NOT NULL,
    role      text        NOT NULL,
    procedure text        NOT NULL,
    request   text        NOT NULL,
    outcome   text        NOT NULL,
    source    text        NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time DESC, id DESC);
CREATE INDEX audit_log_user_time ON audit_log (username, time DESC, id DESC);
