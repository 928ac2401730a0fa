-- V2: profiles, and notes on them.
CREATE TABLE profiles (id INTEGER PRIMARY KEY, bio TEXT);
CREATE TABLE profile_notes (id INTEGER PRIMARY KEY, note TEXT);
