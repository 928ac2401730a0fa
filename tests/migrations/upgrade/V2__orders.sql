-- V2: orders placed by users.
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, total_cents INTEGER NOT NULL);
