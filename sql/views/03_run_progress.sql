-- Each run's planned versus stored samples, and how many hit the token budget.
CREATE OR REPLACE VIEW run_progress AS
SELECT r.run_id, r.status, r.model, r.style, r.n_questions, r.samples_per_question,
       r.n_questions * r.samples_per_question AS planned_samples,
       (SELECT count(*) FROM samples s WHERE s.run_id = r.run_id) AS stored_samples,
       -- samples that stopped at max_new_tokens (for CoT: reasoning cut off)
       (SELECT count(*) FROM samples s WHERE s.run_id = r.run_id
        AND s.finish_reason = 'length') AS hit_budget
FROM runs r;
