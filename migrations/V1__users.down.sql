-- V1 down: drop the users trigger, indexes and table.
DROP TRIGGER users_set_updated_at;
DROP INDEX users_status_idx;
DROP INDEX users_email_uq;
DROP TABLE users;
