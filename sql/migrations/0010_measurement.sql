-- The measurement itself.
-- A question's gold answers in groups of aliases, where they are not all one thing (Bolivia:
-- Sucre | La Paz). NULL: every gold answer is an alias of the others.
ALTER TABLE questions ADD COLUMN answer_groups VARCHAR[][];
-- The noise floor of a calibration figure: the same metric for a model calibrated by
-- construction, with this score's questions, M and each question's observed class distribution
-- (a seeded parametric bootstrap): its mean and 95th percentile. NULL for other metrics.
ALTER TABLE score_metrics ADD COLUMN floor_mean DOUBLE;
ALTER TABLE score_metrics ADD COLUMN floor_p95 DOUBLE;
-- How confidence was estimated (plurality: the top class's share of M; split: the answer chosen
-- on one half of the samples, its share measured on the other), how many draws the floor took,
-- and the share of samples that hit their token budget without giving an answer.
ALTER TABLE scores ADD COLUMN estimator VARCHAR DEFAULT 'plurality';
ALTER TABLE scores ADD COLUMN floor_draws INTEGER;
ALTER TABLE scores ADD COLUMN truncated_share DOUBLE;
