-- When a grading was last changed in place (grading again with the same judge version retries
-- its failed extractions and verdicts: `workbench grade` on a grading with errors). A score made
-- before that reads verdicts that have since changed: the variants view marks it
-- `score_stale`, and `runs` and `show` say so, until the grading is scored again.
ALTER TABLE gradings ADD COLUMN revised_at TIMESTAMP;
