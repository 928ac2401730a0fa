-- V1: settings.
CREATE TABLE settings (key TEXT NOT NULL UNIQUE, value TEXT);
