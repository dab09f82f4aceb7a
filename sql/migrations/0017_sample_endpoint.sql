-- Which server address produced each sample: a run over several replicas of one model
-- (--base-url given more than once) records, per sample, the one that answered. NULL for
-- local engines and for samples stored before this column.
ALTER TABLE samples ADD COLUMN endpoint VARCHAR;
