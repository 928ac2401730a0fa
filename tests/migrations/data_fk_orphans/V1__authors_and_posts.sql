-- V1: authors and posts; posts.writer is a plain number, and its name says nothing of the
-- authors it holds: nothing keeps it to one.
CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE posts (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, title TEXT);
