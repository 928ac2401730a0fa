-- V5: audit log; never reached from below V4.
CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);
