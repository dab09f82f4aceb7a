-- Each sample beside its question's prompt (stored once per run and question: `prompts`).
CREATE OR REPLACE VIEW sample_prompts AS
SELECT s.*, p.prompt
FROM samples s JOIN prompts p USING (run_id, question_id);
