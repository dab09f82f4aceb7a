-- One row per score: the run's variant, its grading and every metric with its interval, and for
-- calibration errors the noise floor (what a calibrated model scores with these questions and M).
CREATE OR REPLACE VIEW run_metrics AS
SELECT r.run_id, r.model, r.model_kind, r.style, r.prompt_format, d.name AS dataset,
       r.samples_per_question AS m, g.grading_id, g.judge, g.extractor, s.score_id,
       s.created_at, s.n_questions, s.n_excluded, s.estimator, s.truncated_share, m.metric,
       m.value, m.ci_low, m.ci_high, m.floor_mean, m.floor_p95
FROM score_metrics m
JOIN scores s USING (score_id)
JOIN gradings g USING (grading_id)
JOIN runs r USING (run_id)
JOIN datasets d USING (dataset_id)
WHERE s.status = 'FINISHED';
