-- V4: invites; the first statement is fine, the second one is not SQLite.
CREATE TABLE invites (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES teams (id), email TEXT NOT NULL);
ALTER TABLE invites ADD CONSTRAINT invites_email_uq UNIQUE (email);
