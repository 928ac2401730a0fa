-- V3: comments, with a typo: "CREAT" is not SQL.
CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id));
CREAT INDEX comments_post_idx ON comments (post_id);
