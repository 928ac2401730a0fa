-- V1: users and their posts, with one of each.
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), body TEXT);
INSERT INTO users (id, email) VALUES (1, 'first@example.com');
INSERT INTO posts (id, user_id, body) VALUES (1, 1, 'hello');
