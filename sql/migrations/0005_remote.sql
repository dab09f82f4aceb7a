-- Remote generation: where a run sampled from (never the key itself, only the variable that
-- holds it), and token accounting. Servers that offer no logprobs give no token counts per
-- sample, so n_tokens may be NULL.
ALTER TABLE samples ALTER COLUMN n_tokens DROP NOT NULL;
ALTER TABLE runs ADD COLUMN base_url VARCHAR;
ALTER TABLE runs ADD COLUMN endpoint VARCHAR;
ALTER TABLE runs ADD COLUMN api_key_env VARCHAR;
ALTER TABLE runs ADD COLUMN prompt_tokens BIGINT DEFAULT 0;
ALTER TABLE runs ADD COLUMN completion_tokens BIGINT DEFAULT 0;
