-- V5 down: drop the tokens indexes and table.
DROP INDEX tokens_live_expires_idx;
DROP INDEX tokens_parent_idx;
DROP INDEX tokens_user_idx;
DROP INDEX tokens_client_idx;
DROP INDEX tokens_token_hash_uq;
DROP TABLE tokens;
