-- V2: deletes the sessions that expired before February 2024 and lower-cases the e-mail
-- addresses: both on purpose.
DELETE FROM sessions WHERE expires_at < '2024-02-01';
UPDATE sessions SET user_email = lower(user_email);
