-- Every change made through the API, by whom, with the request and the
-- outcome. Retention of raw events does not touch it.
CREATE TABLE audit_log (
    id        TEXT    PRIMARY KEY,
    time      INTEGER NOT NULL,
    username  TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    procedure TEXT    NOT NULL,
    request   TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    source    TEXT    NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time DESC, id DESC);
CREATE INDEX audit_log_user_time ON audit_log (username, time DESC, id DESC);
