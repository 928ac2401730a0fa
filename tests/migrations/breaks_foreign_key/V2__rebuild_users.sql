-- V2: rebuilds users the way SQLite's documentation describes, with foreign keys off (it
-- ends refinery's transaction to turn them off), and loses user 1 on the way: post 1 is
-- left pointing at a user that no longer exists.
COMMIT;
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL, verified INTEGER NOT NULL DEFAULT 0);
INSERT INTO users_new (id, email) SELECT id, email FROM users WHERE id <> 1;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
