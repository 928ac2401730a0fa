-- V6 down: drop the active_sessions view, sessions trigger/indexes/table, and users.last_login_at.
DROP VIEW active_sessions;
DROP TRIGGER sessions_set_user_last_login;
DROP INDEX sessions_client_idx;
DROP INDEX sessions_user_open_idx;
DROP INDEX sessions_session_key_hash_uq;
DROP TABLE sessions;
ALTER TABLE users DROP COLUMN last_login_at;
