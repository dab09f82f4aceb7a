-- The core store: datasets, generation runs and their samples, gradings, scores.
-- Applied once, inside a transaction, and recorded in schema_migrations.

CREATE TABLE datasets (
    dataset_id     VARCHAR PRIMARY KEY,   -- ds_ + content hash prefix
    name           VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    content_hash   VARCHAR NOT NULL,
    n_questions    INTEGER NOT NULL,
    n_fewshot      INTEGER NOT NULL,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE questions (
    dataset_id     VARCHAR NOT NULL REFERENCES datasets (dataset_id),
    question_id    VARCHAR NOT NULL,
    position       INTEGER NOT NULL,
    split          VARCHAR NOT NULL,      -- test | fewshot
    question       VARCHAR NOT NULL,
    answers        VARCHAR[] NOT NULL,    -- gold answer and its aliases
    answer_type    VARCHAR NOT NULL,      -- text | number
    sentence       VARCHAR,
    rationale      VARCHAR,
    PRIMARY KEY (dataset_id, question_id)
);

CREATE TABLE runs (
    run_id           VARCHAR PRIMARY KEY,
    created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at      TIMESTAMP,
    status           VARCHAR NOT NULL,    -- RUNNING | FINISHED | FAILED
    error            VARCHAR,
    model            VARCHAR NOT NULL,
    model_source     VARCHAR NOT NULL,
    model_kind       VARCHAR NOT NULL,    -- base | sft | rl | reasoning
    prompt_format    VARCHAR NOT NULL,    -- completion | chat
    backend          VARCHAR NOT NULL,    -- transformers | openai
    style            VARCHAR NOT NULL,    -- concise | sentence | cot
    shots            INTEGER NOT NULL,
    dataset_id       VARCHAR NOT NULL REFERENCES datasets (dataset_id),
    n_questions      INTEGER NOT NULL,
    samples_per_question INTEGER NOT NULL,
    temperature      DOUBLE NOT NULL,
    top_p            DOUBLE NOT NULL,
    top_k            INTEGER NOT NULL,
    max_new_tokens   INTEGER NOT NULL,
    stop             VARCHAR[] NOT NULL,
    seed             BIGINT NOT NULL,
    package_version  VARCHAR NOT NULL,
    git_sha          VARCHAR,
    mlflow_run_id    VARCHAR
);

-- The questions a run asks, in order (a run may ask a seeded subset of its dataset).
CREATE TABLE run_questions (
    run_id         VARCHAR NOT NULL REFERENCES runs (run_id),
    question_id    VARCHAR NOT NULL,
    position       INTEGER NOT NULL,
    PRIMARY KEY (run_id, question_id)
);

CREATE TABLE samples (
    run_id         VARCHAR NOT NULL REFERENCES runs (run_id),
    question_id    VARCHAR NOT NULL,
    sample_idx     INTEGER NOT NULL,
    prompt         VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,
    n_tokens       INTEGER NOT NULL,
    logprob        DOUBLE,
    finish_reason  VARCHAR NOT NULL,      -- stop | length
    latency_s      DOUBLE NOT NULL,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (run_id, question_id, sample_idx)
);

CREATE TABLE gradings (
    grading_id     VARCHAR PRIMARY KEY,
    run_id         VARCHAR NOT NULL REFERENCES runs (run_id),
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at    TIMESTAMP,
    status         VARCHAR NOT NULL,
    error          VARCHAR,
    extractor      VARCHAR NOT NULL,      -- how answers were extracted and classed (map B)
    judge          VARCHAR NOT NULL,      -- judge name
    judge_version  VARCHAR NOT NULL,
    judge_config   VARCHAR NOT NULL,      -- JSON
    mlflow_run_id  VARCHAR
);

-- Each sample's extracted answer and semantic class (NULL class: no answer given).
CREATE TABLE sample_classes (
    grading_id     VARCHAR NOT NULL REFERENCES gradings (grading_id),
    question_id    VARCHAR NOT NULL,
    sample_idx     INTEGER NOT NULL,
    extracted      VARCHAR NOT NULL,
    class_id       INTEGER,
    PRIMARY KEY (grading_id, question_id, sample_idx)
);

-- One verdict per distinct (question, class).
CREATE TABLE class_grades (
    grading_id     VARCHAR NOT NULL REFERENCES gradings (grading_id),
    question_id    VARCHAR NOT NULL,
    class_id       INTEGER NOT NULL,
    canonical      VARCHAR NOT NULL,      -- the class's most frequent surface form
    class_key      VARCHAR NOT NULL,      -- the class's root key (normalised form or #number)
    member_keys    VARCHAR[] NOT NULL,    -- every key merged into the class, root first
    n_samples      INTEGER NOT NULL,
    correct        BOOLEAN,               -- NULL: the judge gave no verdict
    judge_output   VARCHAR,
    PRIMARY KEY (grading_id, question_id, class_id)
);

CREATE TABLE scores (
    score_id       VARCHAR PRIMARY KEY,
    grading_id     VARCHAR NOT NULL REFERENCES gradings (grading_id),
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    status         VARCHAR NOT NULL,
    error          VARCHAR,
    n_questions    INTEGER,
    n_excluded     INTEGER,               -- questions left out (no verdict)
    n_bootstrap    INTEGER NOT NULL,
    ece_bins       INTEGER NOT NULL,
    seed           BIGINT NOT NULL,
    diagram_path   VARCHAR,
    mlflow_run_id  VARCHAR
);

CREATE TABLE score_metrics (
    score_id       VARCHAR NOT NULL REFERENCES scores (score_id),
    metric         VARCHAR NOT NULL,
    value          DOUBLE,
    ci_low         DOUBLE,
    ci_high        DOUBLE,
    PRIMARY KEY (score_id, metric)
);
