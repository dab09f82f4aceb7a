-- Per grading and question: the plurality class (the model's answer), its share of the run's
-- M samples (the confidence) and its verdict. Ties go to the class seen first (lowest class_id).
-- Samples with no extractable answer count in M but belong to no class.
CREATE OR REPLACE VIEW question_confidence AS
WITH ranked AS (
    SELECT g.grading_id, g.run_id, c.question_id, c.class_id, c.canonical, c.class_key,
           c.correct, c.n_samples,
           row_number() OVER (PARTITION BY c.grading_id, c.question_id
                              ORDER BY c.n_samples DESC, c.class_id) AS rank,
           count(*) OVER (PARTITION BY c.grading_id, c.question_id) AS n_classes
    FROM class_grades c JOIN gradings g USING (grading_id)
)
SELECT rq.run_id, g.grading_id, rq.question_id, q.question, q.answers,
       r.samples_per_question AS m,
       coalesce(k.n_classes, 0) AS n_classes,
       k.class_id AS answer_class, k.canonical AS answer, k.class_key AS answer_key,
       coalesce(k.n_samples, 0) AS answer_count,
       coalesce(k.n_samples, 0) / r.samples_per_question AS confidence,
       -- No answer at all counts as wrong; a missing verdict, or answers that could not be
       -- extracted, stay NULL (left out of scores).
       CASE WHEN e.question_id IS NOT NULL THEN NULL
            WHEN k.class_id IS NULL THEN FALSE ELSE k.correct END AS correct
FROM gradings g
JOIN runs r USING (run_id)
JOIN run_questions rq ON rq.run_id = g.run_id
JOIN questions q ON q.dataset_id = r.dataset_id AND q.question_id = rq.question_id
LEFT JOIN ranked k ON k.grading_id = g.grading_id AND k.question_id = rq.question_id
                  AND k.rank = 1
LEFT JOIN grading_errors e ON e.grading_id = g.grading_id AND e.question_id = rq.question_id;
