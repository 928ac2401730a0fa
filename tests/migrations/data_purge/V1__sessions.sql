-- V1: sessions.
CREATE TABLE sessions (id INTEGER PRIMARY KEY, user_email TEXT NOT NULL, expires_at TEXT NOT NULL);
