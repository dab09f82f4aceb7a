-- Experiments as files (workbench experiment run FILE): each file as it was run (content and
-- hash), the runs its cells made or found, and on each run the cell that asked for it: the
-- hash of everything that decides its samples (experiments/spec.cell_key), so a cell finds its
-- run again (finished, or to resume) without loading a model.
ALTER TABLE runs ADD COLUMN cell_key VARCHAR;

CREATE TABLE experiments (
    experiment_id VARCHAR PRIMARY KEY,  -- exp_ and the first 12 hex digits of the file's hash
    name VARCHAR NOT NULL,
    path VARCHAR,
    sha256 VARCHAR NOT NULL,
    content VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE experiment_runs (
    experiment_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    cell_key VARCHAR NOT NULL,
    PRIMARY KEY (experiment_id, run_id)
);
