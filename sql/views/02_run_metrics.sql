-- One row per score: the run's variant, its grading and every metric with its interval.
CREATE OR REPLACE VIEW run_metrics AS
SELECT r.run_id, r.model, r.model_kind, r.style, r.prompt_format, d.name AS dataset,
       r.samples_per_question AS m, g.grading_id, g.judge, s.score_id, s.created_at,
       s.n_questions, s.n_excluded, m.metric, m.value, m.ci_low, m.ci_high
FROM score_metrics m
JOIN scores s USING (score_id)
JOIN gradings g USING (grading_id)
JOIN runs r USING (run_id)
JOIN datasets d USING (dataset_id)
WHERE s.status = 'FINISHED';
