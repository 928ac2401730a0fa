-- V4 down: drop the rotation-logging triggers, then the key_rotation_events indexes and table.
DROP TRIGGER client_secret_versions_log_revoke;
DROP TRIGGER client_secret_versions_log_insert;
DROP INDEX key_rotation_events_secret_version_idx;
DROP INDEX key_rotation_events_client_idx;
DROP TABLE key_rotation_events;
