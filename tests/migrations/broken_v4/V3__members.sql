-- V3: team members.
CREATE TABLE members (team_id INTEGER NOT NULL REFERENCES teams (id), user_id INTEGER NOT NULL REFERENCES users (id));
