-- V2: a default setting.
INSERT INTO settings (key, value) VALUES ('theme', 'dark');
