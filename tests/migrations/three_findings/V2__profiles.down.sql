-- Forgets profile_notes: up then down leaves a trace.
DROP TABLE profiles;
