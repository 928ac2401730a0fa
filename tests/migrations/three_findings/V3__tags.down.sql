-- Names a table that does not exist: the down script cannot run.
DROP TABLE tag;
