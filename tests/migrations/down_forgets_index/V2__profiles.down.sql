-- Undoes V2, but forgets the index on users.email.
DROP TABLE profiles;
