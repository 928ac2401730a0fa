-- V5: issued access/refresh tokens (stored hashed), with refresh-token lineage via parent_token_id.
CREATE TABLE tokens (
    id              INTEGER PRIMARY KEY,
    token_hash      TEXT    NOT NULL,
    token_type      TEXT    NOT NULL CHECK (token_type IN ('access', 'refresh')),
    client_id       INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    parent_token_id INTEGER REFERENCES tokens (id) ON DELETE SET NULL,
    scope           TEXT    NOT NULL DEFAULT '',
    issued_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at      TEXT    NOT NULL,
    revoked_at      TEXT,
    CHECK (expires_at > issued_at),
    CHECK (parent_token_id IS NULL OR parent_token_id <> id)
);

CREATE UNIQUE INDEX tokens_token_hash_uq ON tokens (token_hash);

CREATE INDEX tokens_client_idx ON tokens (client_id);

CREATE INDEX tokens_user_idx ON tokens (user_id);

CREATE INDEX tokens_parent_idx ON tokens (parent_token_id);

CREATE INDEX tokens_live_expires_idx ON tokens (expires_at) WHERE revoked_at IS NULL;
