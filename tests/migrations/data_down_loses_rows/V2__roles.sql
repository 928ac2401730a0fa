-- V2: a role for every user.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
