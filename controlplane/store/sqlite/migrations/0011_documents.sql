-- Records of features that keep small documents (webhook subscriptions,
-- their delivery log and dead letters, suppression rules) rather than
-- tables of their own. grp groups documents for listing, such as the
-- subscription a delivery belongs to; at orders them.
CREATE TABLE documents (
    kind TEXT    NOT NULL,
    id   TEXT    NOT NULL,
    grp  TEXT    NOT NULL,
    at   INTEGER NOT NULL,
    data BLOB    NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX documents_group_at ON documents (kind, grp, at DESC, id DESC);
CREATE INDEX documents_at ON documents (kind, at DESC, id DESC);
