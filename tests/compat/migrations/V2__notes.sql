-- V2: notes belong to an account.
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body       TEXT NOT NULL
);
CREATE INDEX notes_account_idx ON notes (account_id);
