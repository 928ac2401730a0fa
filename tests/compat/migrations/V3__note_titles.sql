-- V3: titles, filled from the first line of the body.
ALTER TABLE notes ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE notes SET title = substr(body, 1, 40);
