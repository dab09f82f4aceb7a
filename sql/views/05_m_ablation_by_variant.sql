-- M ablation rows (`workbench ablate`) with the variant and judge they belong to: how each
-- metric moves with m. At m = 1 every answered question's confidence is 1 by construction (one
-- sample always agrees with itself): `trivial` marks those rows.
CREATE OR REPLACE VIEW m_ablation_by_variant AS
SELECT v.dataset, v.model, v.model_kind, v.style, v.run_id, v.grading_id, v.judge,
       a.ablation_id, a.created_at, r.m, r.metric, r.mean, r.sd, a.repeats,
       r.m = 1 AND r.metric = 'confidence' AS trivial
FROM ablation_rows r JOIN ablations a USING (ablation_id)
JOIN variants v ON v.grading_id = a.grading_id
WHERE a.status = 'FINISHED';
