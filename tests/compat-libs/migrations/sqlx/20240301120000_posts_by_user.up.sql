CREATE INDEX posts_by_user ON posts(user_id);
