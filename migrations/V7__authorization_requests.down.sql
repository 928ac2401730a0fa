-- V7 down: drop the authorization_requests indexes and table.
DROP INDEX authorization_requests_pending_expires_idx;
DROP INDEX authorization_requests_issued_token_idx;
DROP INDEX authorization_requests_session_idx;
DROP INDEX authorization_requests_user_idx;
DROP INDEX authorization_requests_client_idx;
DROP INDEX authorization_requests_code_hash_uq;
DROP TABLE authorization_requests;
