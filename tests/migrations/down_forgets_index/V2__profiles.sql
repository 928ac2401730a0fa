-- V2: profiles, and an index on users.email.
CREATE TABLE profiles (user_id INTEGER PRIMARY KEY REFERENCES users (id), bio TEXT);
CREATE INDEX users_email_idx ON users (email);
