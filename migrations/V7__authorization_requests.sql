-- V7: OAuth authorization-code requests (PKCE aware), linked to client, user, session and issued token.
CREATE TABLE authorization_requests (
    id                    INTEGER PRIMARY KEY,
    code_hash             TEXT    NOT NULL,
    client_id             INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id               INTEGER REFERENCES users (id) ON DELETE CASCADE,
    session_id            INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
    issued_token_id       INTEGER REFERENCES tokens (id) ON DELETE SET NULL,
    redirect_uri          TEXT    NOT NULL,
    scope                 TEXT    NOT NULL DEFAULT '',
    state                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT    CHECK (code_challenge_method IN ('plain', 'S256')),
    status                TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'consumed', 'expired')),
    created_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at            TEXT    NOT NULL,
    consumed_at           TEXT,
    CHECK (expires_at > created_at),
    CHECK ((code_challenge IS NULL) = (code_challenge_method IS NULL)),
    CHECK ((status = 'consumed') = (consumed_at IS NOT NULL))
);

CREATE UNIQUE INDEX authorization_requests_code_hash_uq ON authorization_requests (code_hash);

CREATE INDEX authorization_requests_client_idx ON authorization_requests (client_id);

CREATE INDEX authorization_requests_user_idx ON authorization_requests (user_id);

CREATE INDEX authorization_requests_session_idx ON authorization_requests (session_id);

CREATE INDEX authorization_requests_issued_token_idx ON authorization_requests (issued_token_id);

CREATE INDEX authorization_requests_pending_expires_idx ON authorization_requests (expires_at) WHERE status = 'pending';
