-- Records of features that keep small documents (webhook subscriptions,
-- their delivery log and dead letters, suppression rules) rather than
-- tables of their own. grp groups documents for listing, such as the
-- subscription a delivery belongs to; at orders them.
CREATE TABLE documents (
    kind text        NOT NULL,
    id   text        NOT NULL,
    grp  text        NOT NULL,
    at   timestamptz NOT NULL,
    data bytea       NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX documents_group_at ON documents (kind, grp, at DESC, id DESC);
CREATE INDEX documents_at ON documents (kind, at DESC, id DESC);
