-- V2: removes test accounts; the rows cannot come back.
DELETE FROM users WHERE email LIKE '%@test.invalid';
