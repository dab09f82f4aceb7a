-- The M ablation becomes a stage of its own (`workbench ablate`): it reads a grading's stored
-- classes and writes only its rows, so asking for an ablation no longer makes a new full score
-- that changes what `runs` and `compare` report. Ablations made by `score --m` before this
-- migration keep their rows, under an ablation named after their score (abl_ + the score's hex).
CREATE TABLE ablations (
    ablation_id      VARCHAR PRIMARY KEY,
    grading_id       VARCHAR NOT NULL REFERENCES gradings (grading_id),
    created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at      TIMESTAMP,
    status           VARCHAR NOT NULL,    -- RUNNING | FINISHED | FAILED
    error            VARCHAR,
    ms               VARCHAR NOT NULL,    -- the m values, comma-separated
    repeats          INTEGER NOT NULL,
    seed             BIGINT NOT NULL,
    ece_bins         INTEGER NOT NULL,
    package_version  VARCHAR,
    git_sha          VARCHAR,
    pid              INTEGER,
    host             VARCHAR,
    stats            VARCHAR,
    mlflow_run_id    VARCHAR,
    mirrored_status  VARCHAR,
    mirror_error     VARCHAR
);

INSERT INTO ablations (ablation_id, grading_id, created_at, finished_at, status, ms, repeats,
                       seed, ece_bins)
SELECT 'abl_' || substr(s.score_id, 5), s.grading_id, s.created_at, s.created_at, 'FINISHED',
       string_agg(DISTINCT a.m::VARCHAR, ',' ORDER BY a.m::VARCHAR), max(a.repeats), s.seed,
       s.ece_bins
FROM m_ablation a JOIN scores s USING (score_id)
GROUP BY s.score_id, s.grading_id, s.created_at, s.seed, s.ece_bins;

CREATE TABLE ablation_rows (
    ablation_id  VARCHAR NOT NULL REFERENCES ablations (ablation_id),
    m            INTEGER NOT NULL,
    metric       VARCHAR NOT NULL,
    mean         DOUBLE,
    sd           DOUBLE,
    PRIMARY KEY (ablation_id, m, metric)
);

INSERT INTO ablation_rows
SELECT 'abl_' || substr(score_id, 5), m, metric, mean, sd FROM m_ablation;

DROP VIEW IF EXISTS m_ablation_by_variant;
DROP TABLE m_ablation;

-- Artifact paths are stored relative to the store's folder, so a copied or moved store still
-- finds its diagrams. Scores' artifacts always lie under <store folder>/artifacts/.
UPDATE scores SET diagram_path = regexp_extract(diagram_path, '(artifacts/scores/.*)$', 1)
WHERE diagram_path IS NOT NULL AND regexp_matches(diagram_path, 'artifacts/scores/');
