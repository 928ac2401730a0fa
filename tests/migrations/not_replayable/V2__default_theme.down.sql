-- Meant to undo V2, but only clears the value: the row stays, so V2 cannot run again.
UPDATE settings SET value = NULL WHERE key = 'theme';
