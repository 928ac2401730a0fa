-- V4: likes; never reached, V3 fails first.
CREATE TABLE likes (user_id INTEGER NOT NULL, post_id INTEGER NOT NULL);
