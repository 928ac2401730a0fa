-- V2: one user per team, enforced over a column whose values already repeat.
CREATE UNIQUE INDEX users_team_uq ON users (team);
