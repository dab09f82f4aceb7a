-- Each prompt once per (run, question): every sample row carried its question's full prompt
-- (a 5-shot prompt is ~0.5 KB, M = 50 copies per question). A run's samples of one question
-- share one prompt (generate refuses to resume with a different one); should a store hold two
-- for one question, this migration fails and changes nothing. The view sample_prompts shows
-- each sample beside its prompt, as the samples table did.
SELECT CASE WHEN count(*) > 0 THEN error('samples of one run and question with different '
                                         'prompts: not migrated (workbench doctor)') END
FROM (SELECT run_id, question_id FROM samples GROUP BY ALL HAVING count(DISTINCT prompt) > 1);

CREATE TABLE prompts (
    run_id       VARCHAR NOT NULL REFERENCES runs (run_id),
    question_id  VARCHAR NOT NULL,
    prompt       VARCHAR NOT NULL,
    PRIMARY KEY (run_id, question_id)
);

INSERT INTO prompts SELECT run_id, question_id, any_value(prompt) FROM samples GROUP BY ALL;

ALTER TABLE samples DROP COLUMN prompt;
