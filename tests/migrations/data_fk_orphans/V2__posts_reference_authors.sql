-- V2: rebuilds posts with a foreign key to authors. Foreign keys are on inside refinery's
-- transaction, so the copy fails on every post whose author does not exist.
CREATE TABLE posts_new (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id), title TEXT);
INSERT INTO posts_new (id, author_id, title) SELECT id, author_id, title FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;
