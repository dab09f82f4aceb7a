-- RL as GRPO runs it: each step's KL to the parent policy (mean per token, k3 estimator) and the
-- share of question groups whose rollouts all got the same reward (no signal but the KL).
ALTER TABLE tuning_steps ADD COLUMN kl DOUBLE;
ALTER TABLE tuning_steps ADD COLUMN unanimous DOUBLE;

-- Shortcuts a policy can collapse onto, per score (analysis/shortcut.py): the share of answers
-- that only repeat the question's words, and the answer given for the most questions.
ALTER TABLE scores ADD COLUMN echo_share DOUBLE;
ALTER TABLE scores ADD COLUMN top_answer VARCHAR;
ALTER TABLE scores ADD COLUMN top_answer_share DOUBLE;
