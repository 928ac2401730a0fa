-- V5: full_name is replaced by given_name and family_name. No down script: the column's
-- data is gone, on purpose.
-- sqlite-testdb: allow column-dropped
ALTER TABLE users DROP COLUMN full_name;
