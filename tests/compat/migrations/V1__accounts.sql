-- V1: accounts, one per email address.
CREATE TABLE accounts (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE
);
