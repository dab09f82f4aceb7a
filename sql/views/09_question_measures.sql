-- Per grading, question and confidence measure: the confidence and verdict the newest finished
-- score under that measure (`score --estimator`, `elicit` for the stated ones) computed its
-- figures from. Plurality's equal `question_confidence`'s; a measure picks its own answer
-- (split, weighted_plurality) or leaves questions out (p_true, verbalized: nothing stated).
CREATE OR REPLACE VIEW question_measures AS
SELECT s.grading_id, q.question_id, s.estimator AS measure, q.confidence, q.correct,
       s.score_id, s.created_at AS scored_at
FROM score_questions q JOIN scores s USING (score_id)
WHERE s.status = 'FINISHED'
QUALIFY row_number() OVER (PARTITION BY s.grading_id, s.estimator, q.question_id
                           ORDER BY s.created_at DESC, s.score_id DESC) = 1;
