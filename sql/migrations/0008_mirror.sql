-- MLflow mirrors this store. Each stage keeps the statistics MLflow shows (JSON), the status
-- MLflow last saw (NULL: never mirrored), and the last mirroring error. A stage whose status
-- differs from its mirrored status is waiting for `workbench mirror` (MLflow was unreachable).
ALTER TABLE runs ADD COLUMN stats VARCHAR;
ALTER TABLE runs ADD COLUMN mirrored_status VARCHAR;
ALTER TABLE runs ADD COLUMN mirror_error VARCHAR;
ALTER TABLE gradings ADD COLUMN stats VARCHAR;
ALTER TABLE gradings ADD COLUMN mirrored_status VARCHAR;
ALTER TABLE gradings ADD COLUMN mirror_error VARCHAR;
ALTER TABLE scores ADD COLUMN stats VARCHAR;
ALTER TABLE scores ADD COLUMN mirrored_status VARCHAR;
ALTER TABLE scores ADD COLUMN mirror_error VARCHAR;
-- Stages written before this migration were mirrored as they ran.
UPDATE runs SET mirrored_status = status WHERE mlflow_run_id IS NOT NULL;
UPDATE gradings SET mirrored_status = status WHERE mlflow_run_id IS NOT NULL;
UPDATE scores SET mirrored_status = status WHERE mlflow_run_id IS NOT NULL;
