-- Each experiment's cells by key, stored when the file is first run, before any cell is
-- sampled: a run made for a cell carries the key from its first row (runs.cell_key), so its
-- stages name their experiment from the start (MLflow's workbench.experiment tag) and SQL can
-- list the cells of an experiment that have no run yet. Cells of experiments stored before
-- this migration: the keys of the runs they made or found.
CREATE TABLE experiment_cells (
    experiment_id VARCHAR NOT NULL,
    cell_key VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,  -- the spec the cell asks (with @N)
    style VARCHAR NOT NULL,
    PRIMARY KEY (experiment_id, cell_key)
);

INSERT INTO experiment_cells
SELECT DISTINCT er.experiment_id, er.cell_key, r.model, d.name, r.style
FROM experiment_runs er JOIN runs r USING (run_id) JOIN datasets d USING (dataset_id);
