-- One row per run and finished grading (a run not graded yet: one row with no judge): the run's
-- variant (`variant`, a name for people: model · style · prompt format; and its parts: model,
-- kind, style, backend, sampling), the grading's judge, and that grading's newest
-- finished score with its headline figures and their 95% intervals, and its shortcut figures
-- (`echo_share`, `top_answer_share`: analysis/shortcut.py). A run graded by two judges is
-- two rows, so grouping or filtering by judge never hides one. `workbench compare` groups these
-- rows, and `compare --by kind` and `--by m` read the aliases `kind` (= model_kind) and `m`
-- (= samples_per_question). The score's mean confidence is `mean_confidence`: a column named
-- `confidence` here made joins with question_confidence ambiguous. A grading scored under several
-- measures (`score --estimator`) shows its newest plurality score (the paper's confidence), else
-- its newest score under another measure, named in `estimator`; `run_metrics` has them all.
-- `score_stale`: the grading was revised in place (its failed calls retried) after that score.
CREATE OR REPLACE VIEW variants AS
WITH graded AS (
    SELECT run_id, grading_id, judge, created_at AS graded_at, revised_at
    FROM gradings WHERE status = 'FINISHED'
), newest AS (
    SELECT grading_id, score_id,
           row_number() OVER (PARTITION BY grading_id
                              ORDER BY estimator = 'plurality' DESC, created_at DESC) AS k
    FROM scores WHERE status = 'FINISHED'
)
SELECT r.run_id, r.model || ' · ' || r.style || ' · ' || r.prompt_format AS variant,
       r.created_at, r.status, d.name AS dataset,
       split_part(d.name, '@', 1) AS dataset_family, r.dataset_id,
       r.model, r.model_kind, r.model_kind AS kind, r.tuning_id, r.style, r.backend,
       r.prompt_format, r.shots, r.samples_per_question, r.samples_per_question AS m,
       r.temperature, r.top_p, r.top_k, r.max_new_tokens, r.seed, r.dtype, r.device,
       g.grading_id, g.judge, g.graded_at, n.score_id, s.estimator,
       CASE WHEN n.score_id IS NOT NULL
            THEN coalesce(s.created_at < g.revised_at, false) END AS score_stale,
       round(sm.value, 3) AS smece, round(sm.ci_low, 3) AS smece_ci_low,
       round(sm.ci_high, 3) AS smece_ci_high, round(sm.floor_p95, 3) AS smece_floor_p95,
       round(acc.value, 3) AS accuracy, round(acc.ci_low, 3) AS accuracy_ci_low,
       round(acc.ci_high, 3) AS accuracy_ci_high,
       round(conf.value, 3) AS mean_confidence, round(conf.ci_low, 3) AS mean_confidence_ci_low,
       round(conf.ci_high, 3) AS mean_confidence_ci_high,
       round(s.echo_share, 3) AS echo_share, s.top_answer,
       round(s.top_answer_share, 3) AS top_answer_share
FROM runs r JOIN datasets d USING (dataset_id)
LEFT JOIN graded g ON g.run_id = r.run_id
LEFT JOIN newest n ON n.grading_id = g.grading_id AND n.k = 1
LEFT JOIN scores s ON s.score_id = n.score_id
LEFT JOIN score_metrics sm ON sm.score_id = n.score_id AND sm.metric = 'smece'
LEFT JOIN score_metrics acc ON acc.score_id = n.score_id AND acc.metric = 'accuracy'
LEFT JOIN score_metrics conf ON conf.score_id = n.score_id AND conf.metric = 'confidence';
