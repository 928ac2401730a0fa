-- V3 down: drop the client_secret_versions indexes and table.
DROP INDEX client_secret_versions_unrevoked_idx;
DROP INDEX client_secret_versions_client_version_uq;
DROP TABLE client_secret_versions;
