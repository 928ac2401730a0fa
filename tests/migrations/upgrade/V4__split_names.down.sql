-- Undoes V4: full_name stays the source of truth until V5.
ALTER TABLE users DROP COLUMN family_name;
ALTER TABLE users DROP COLUMN given_name;
