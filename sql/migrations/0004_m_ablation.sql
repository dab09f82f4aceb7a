-- M ablation: metrics when each question keeps only m of its M stored samples (seeded,
-- repeated subsamples of one grading; no new sampling).
CREATE TABLE m_ablation (
    score_id     VARCHAR NOT NULL REFERENCES scores (score_id),
    m            INTEGER NOT NULL,
    metric       VARCHAR NOT NULL,
    mean         DOUBLE,
    sd           DOUBLE,
    repeats      INTEGER NOT NULL,
    PRIMARY KEY (score_id, m, metric)
);
