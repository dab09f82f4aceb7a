-- M ablation rows with the variant they belong to: how each metric moves with m.
CREATE OR REPLACE VIEW m_ablation_by_variant AS
SELECT v.dataset, v.model, v.kind, v.style, v.run_id, a.score_id, a.m, a.metric, a.mean, a.sd,
       a.repeats
FROM m_ablation a JOIN scores s USING (score_id) JOIN gradings g USING (grading_id)
JOIN variants v ON v.run_id = g.run_id;
