-- Undoes V2 with a table rebuild, but copies only the users that have a name: the schema
-- comes back exactly, the users without a name do not.
CREATE TABLE users_old (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
INSERT INTO users_old (id, email, name) SELECT id, email, name FROM users WHERE name IS NOT NULL;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
