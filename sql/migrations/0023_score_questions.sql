-- Each scored question's confidence and verdict under the score's measure (`scores.estimator`):
-- what its figures were computed from, so every measure's per-question values are in SQL
-- (the view `question_measures`), not only the plurality share `question_confidence` derives.
-- Scores made before this migration have no rows here.
CREATE TABLE score_questions (
    score_id    VARCHAR NOT NULL REFERENCES scores (score_id),
    question_id VARCHAR NOT NULL,
    confidence  DOUBLE NOT NULL,
    correct     BOOLEAN NOT NULL,
    PRIMARY KEY (score_id, question_id)
);
