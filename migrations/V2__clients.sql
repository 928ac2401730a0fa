-- V2: OAuth clients (applications), optionally owned by a user.
CREATE TABLE clients (
    id            INTEGER PRIMARY KEY,
    client_id     TEXT    NOT NULL CHECK (length(client_id) BETWEEN 8 AND 128),
    owner_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    client_type   TEXT    NOT NULL CHECK (client_type IN ('public', 'confidential')),
    redirect_uris TEXT    NOT NULL DEFAULT '',
    grant_types   TEXT    NOT NULL DEFAULT 'authorization_code refresh_token',
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE UNIQUE INDEX clients_client_id_uq ON clients (client_id);

CREATE INDEX clients_owner_user_id_idx ON clients (owner_user_id) WHERE owner_user_id IS NOT NULL;
