-- This file should undo anything in `up.sql`
SELECT 1;
