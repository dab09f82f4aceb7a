-- One row per run: its variant (model, kind, style, backend, sampling) and its newest finished
-- score's headline figures. `workbench compare` groups these rows.
CREATE OR REPLACE VIEW variants AS
WITH newest AS (
    SELECT g.run_id, s.score_id, g.grading_id, g.judge,
           row_number() OVER (PARTITION BY g.run_id ORDER BY s.created_at DESC) AS k
    FROM scores s JOIN gradings g USING (grading_id)
    WHERE s.status = 'FINISHED'
)
SELECT r.run_id, r.created_at, r.status, d.name AS dataset,
       split_part(d.name, '@', 1) AS dataset_family, r.dataset_id,
       r.model, r.model_kind AS kind, r.style, r.backend, r.prompt_format, r.shots,
       r.samples_per_question AS m, r.temperature, r.top_p, r.top_k, r.max_new_tokens, r.seed,
       r.dtype, n.grading_id, n.judge, n.score_id,
       (SELECT value FROM score_metrics x WHERE x.score_id = n.score_id
        AND x.metric = 'smece') AS smece,
       (SELECT floor_p95 FROM score_metrics x WHERE x.score_id = n.score_id
        AND x.metric = 'smece') AS smece_floor_p95,
       (SELECT value FROM score_metrics x WHERE x.score_id = n.score_id
        AND x.metric = 'accuracy') AS accuracy,
       (SELECT value FROM score_metrics x WHERE x.score_id = n.score_id
        AND x.metric = 'confidence') AS confidence
FROM runs r JOIN datasets d USING (dataset_id)
LEFT JOIN newest n ON n.run_id = r.run_id AND n.k = 1;
