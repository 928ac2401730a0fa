-- V2: rebuilds posts with a foreign key to authors. Foreign keys are on inside refinery's
-- transaction, so the copy fails on every post whose writer is no author.
CREATE TABLE posts_new (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL REFERENCES authors (id), title TEXT);
INSERT INTO posts_new (id, writer, title) SELECT id, writer, title FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;
