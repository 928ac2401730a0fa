-- V1: users and their team.
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, team TEXT);
