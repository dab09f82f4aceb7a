-- Confidences a model states about its own answer (stages/elicit.py): one more call per graded
-- question, asked about the grading's plurality answer; p_true (Kadavath et al. 2022) and
-- verbalized. Each row keeps the prompt as sent and the model's output, with the settings
-- (model, backend, sampling, the prompts' version) as JSON. Asking again replaces the rows of
-- that (grading, measure).
CREATE TABLE elicited (
    grading_id  VARCHAR NOT NULL REFERENCES gradings (grading_id),
    question_id VARCHAR NOT NULL,
    measure     VARCHAR NOT NULL,   -- grading/elicitations.ELICITATIONS
    answer      VARCHAR NOT NULL,   -- the plurality answer the model was asked about
    prompt      VARCHAR NOT NULL,
    output      VARCHAR NOT NULL,   -- its text (p_true: with the first token's top log p, JSON)
    confidence  DOUBLE,             -- NULL: the output states none
    error       VARCHAR,            -- the call failed for good (a remote server's error)
    settings    VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (grading_id, question_id, measure)
);
