-- LLM judges as named, versioned records, and the errors a grading meets. A verdict that failed
-- (call error, unparseable output) is stored as correct = NULL with its error, never as wrong,
-- and is retried by the next `workbench grade` with the same judge.
CREATE TABLE judges (
    name           VARCHAR NOT NULL,
    version        VARCHAR NOT NULL,          -- hash of model, prompts and parameters
    kind           VARCHAR NOT NULL,          -- llm
    model          VARCHAR NOT NULL,
    base_url       VARCHAR NOT NULL,
    api_key_env    VARCHAR NOT NULL,
    grader_prompt  VARCHAR NOT NULL,
    grader_prompt_hash VARCHAR NOT NULL,
    extractor_prompt VARCHAR,                 -- NULL: answers are extracted by the rules
    extractor_prompt_hash VARCHAR,
    params         VARCHAR NOT NULL,          -- JSON
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (name, version)
);
ALTER TABLE class_grades ADD COLUMN judge_error VARCHAR;
CREATE TABLE grading_errors (                 -- questions whose answers could not be extracted
    grading_id     VARCHAR NOT NULL REFERENCES gradings (grading_id),
    question_id    VARCHAR NOT NULL,
    error          VARCHAR NOT NULL,
    raw_output     VARCHAR,
    PRIMARY KEY (grading_id, question_id)
);
ALTER TABLE gradings ADD COLUMN judge_calls INTEGER DEFAULT 0;
ALTER TABLE gradings ADD COLUMN judge_errors INTEGER DEFAULT 0;
ALTER TABLE gradings ADD COLUMN prompt_tokens BIGINT DEFAULT 0;
ALTER TABLE gradings ADD COLUMN completion_tokens BIGINT DEFAULT 0;
