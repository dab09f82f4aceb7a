-- Tuned variants made here (`workbench tune`): a LoRA adapter on a parent model, trained by RL
-- on a correctness reward or by SFT on gold answers, on one split of a dataset. The row is the
-- variant's lineage; its id is a hash of its name and everything that determines the adapter,
-- so the same tuning recorded in two stores has one id.
CREATE TABLE tunings (
    tuning_id        VARCHAR PRIMARY KEY,
    created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at      TIMESTAMP,
    status           VARCHAR NOT NULL,    -- RUNNING | FINISHED | FAILED
    error            VARCHAR,
    name             VARCHAR NOT NULL,    -- the variant's model name (`--model NAME`)
    parent_model     VARCHAR NOT NULL,
    parent_source    VARCHAR NOT NULL,
    method           VARCHAR NOT NULL,    -- rl | sft (also the variant's model kind)
    dataset_id       VARCHAR NOT NULL REFERENCES datasets (dataset_id),  -- content hash
    steps            INTEGER NOT NULL,
    learning_rate    DOUBLE NOT NULL,
    seed             BIGINT NOT NULL,
    settings         VARCHAR NOT NULL,    -- JSON: LoRA rank and targets, batch, group, prompt
    adapter_path     VARCHAR,
    adapter_sha256   VARCHAR,
    cached           BOOLEAN NOT NULL DEFAULT false,  -- the adapter came from the model cache
    package_version  VARCHAR NOT NULL,
    git_sha          VARCHAR,
    pid              INTEGER,
    host             VARCHAR,
    stats            VARCHAR,
    mlflow_run_id    VARCHAR,
    mirrored_status  VARCHAR,
    mirror_error     VARCHAR
);

-- One row per optimizer step: the training curve. No foreign key: DuckDB refuses to delete (or
-- update) a tuning whose steps were deleted in the same transaction, which is how a failed
-- tuning is tried again (`store.records.create_tuning`).
CREATE TABLE tuning_steps (
    tuning_id  VARCHAR NOT NULL,
    step       INTEGER NOT NULL,
    loss       DOUBLE NOT NULL,
    reward     DOUBLE,                -- RL: mean reward of the step's rollouts; SFT: NULL
    seconds    DOUBLE NOT NULL,
    PRIMARY KEY (tuning_id, step)
);

-- A run that samples a tuned variant names its tuning.
ALTER TABLE runs ADD COLUMN tuning_id VARCHAR;
