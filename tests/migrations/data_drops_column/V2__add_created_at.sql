-- V2: adds created_at with a table rebuild, and forgets to copy bio: every row comes through,
-- every bio is lost.
CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL, bio TEXT, created_at TEXT);
INSERT INTO users_new (id, email) SELECT id, email FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
