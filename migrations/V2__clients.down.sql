-- V2 down: drop the clients indexes and table.
DROP INDEX clients_owner_user_id_idx;
DROP INDEX clients_client_id_uq;
DROP TABLE clients;
