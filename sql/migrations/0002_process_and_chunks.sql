-- Which process runs a stage (to name it when it is gone) and how a run batches its questions
-- (fixed chunks by position: resuming redoes whole chunks, so it reproduces the same samples).
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host VARCHAR;
ALTER TABLE runs ADD COLUMN chunk_size INTEGER DEFAULT 8;
ALTER TABLE gradings ADD COLUMN pid INTEGER;
ALTER TABLE gradings ADD COLUMN host VARCHAR;
ALTER TABLE scores ADD COLUMN pid INTEGER;
ALTER TABLE scores ADD COLUMN host VARCHAR;
