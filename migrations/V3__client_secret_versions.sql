-- V3: versioned (rotatable) client secrets; at most one version number per client.
CREATE TABLE client_secret_versions (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version >= 1),
    secret_hash TEXT    NOT NULL,
    algorithm   TEXT    NOT NULL DEFAULT 'argon2id' CHECK (algorithm IN ('argon2id', 'bcrypt', 'sha256')),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at  TEXT,
    revoked_at  TEXT,
    CHECK (expires_at IS NULL OR expires_at > created_at),
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);

CREATE UNIQUE INDEX client_secret_versions_client_version_uq ON client_secret_versions (client_id, version);

CREATE INDEX client_secret_versions_unrevoked_idx ON client_secret_versions (client_id) WHERE revoked_at IS NULL;
