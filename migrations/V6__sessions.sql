-- V6: login sessions, users.last_login_at (kept current by a trigger), and an active_sessions view.
ALTER TABLE users ADD COLUMN last_login_at TEXT;

CREATE TABLE sessions (
    id               INTEGER PRIMARY KEY,
    session_key_hash TEXT    NOT NULL,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id        INTEGER REFERENCES clients (id) ON DELETE SET NULL,
    ip_address       TEXT,
    user_agent       TEXT,
    created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_seen_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at       TEXT    NOT NULL,
    ended_at         TEXT,
    CHECK (expires_at > created_at),
    CHECK (ended_at IS NULL OR ended_at >= created_at)
);

CREATE UNIQUE INDEX sessions_session_key_hash_uq ON sessions (session_key_hash);

CREATE INDEX sessions_user_open_idx ON sessions (user_id, expires_at) WHERE ended_at IS NULL;

CREATE INDEX sessions_client_idx ON sessions (client_id);

CREATE TRIGGER sessions_set_user_last_login
AFTER INSERT ON sessions
FOR EACH ROW
BEGIN
    UPDATE users SET last_login_at = NEW.created_at WHERE id = NEW.user_id;
END;

CREATE VIEW active_sessions AS
SELECT s.id AS session_id,
       s.user_id,
       u.email,
       s.client_id,
       s.ip_address,
       s.created_at,
       s.last_seen_at,
       s.expires_at
FROM sessions AS s
JOIN users AS u ON u.id = s.user_id
WHERE s.ended_at IS NULL
  AND s.expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
