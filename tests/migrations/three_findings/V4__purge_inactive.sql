-- V4: deletes every user whose status is not 'active': rows lost.
DELETE FROM users WHERE status <> 'active';
