-- V4: audit log of secret rotations, filled by triggers on client_secret_versions insert/revoke.
CREATE TABLE key_rotation_events (
    id                INTEGER PRIMARY KEY,
    client_id         INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    secret_version_id INTEGER REFERENCES client_secret_versions (id) ON DELETE SET NULL,
    event_type        TEXT    NOT NULL CHECK (event_type IN ('created', 'revoked')),
    detail            TEXT,
    occurred_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX key_rotation_events_client_idx ON key_rotation_events (client_id, occurred_at);

CREATE INDEX key_rotation_events_secret_version_idx ON key_rotation_events (secret_version_id);

CREATE TRIGGER client_secret_versions_log_insert
AFTER INSERT ON client_secret_versions
FOR EACH ROW
BEGIN
    INSERT INTO key_rotation_events (client_id, secret_version_id, event_type, detail)
    VALUES (NEW.client_id, NEW.id, 'created', 'version ' || NEW.version);
END;

CREATE TRIGGER client_secret_versions_log_revoke
AFTER UPDATE OF revoked_at ON client_secret_versions
FOR EACH ROW
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO key_rotation_events (client_id, secret_version_id, event_type, detail)
    VALUES (NEW.client_id, NEW.id, 'revoked', 'version ' || NEW.version);
END;
