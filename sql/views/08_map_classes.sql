-- The map B's facts per run, question and map (`extractor`: rules-vN, or an LLM extractor),
-- not per grading: classes come from the map, not the judge, so a run graded by two judges
-- with one map counts its classes once here (grouping the gradings would double them).
-- `n_classes`: distinct answer classes among the question's samples; `no_answer`: samples
-- that gave none; `samples`: all of them.
CREATE OR REPLACE VIEW map_classes AS
WITH one AS (
    SELECT run_id, extractor, min(grading_id) AS grading_id
    FROM gradings WHERE status = 'FINISHED' GROUP BY run_id, extractor
)
SELECT o.run_id, o.extractor AS map, c.question_id,
       count(DISTINCT c.class_id) AS n_classes,
       count(*) FILTER (WHERE c.class_id IS NULL) AS no_answer,
       count(*) AS samples
FROM one o JOIN sample_classes c USING (grading_id)
GROUP BY o.run_id, o.extractor, c.question_id;
