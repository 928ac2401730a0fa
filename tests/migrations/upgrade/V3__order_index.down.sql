DROP INDEX orders_user_idx;
