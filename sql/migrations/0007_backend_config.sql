-- Everything that decides how a run's samples were drawn, as the backend recorded it (JSON):
-- `resume` rebuilds the backend from it, so a resumed remote run keeps its concurrency, timeout
-- and retries. The older columns (dtype, base_url, endpoint, api_key_env) stay for queries.
ALTER TABLE runs ADD COLUMN backend_config VARCHAR;
