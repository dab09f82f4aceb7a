-- Verdicts by token probability (LLM judges): P(yes) = the judge's probability mass on "yes"
-- over its mass on "yes" and "no" for the verdict token, and that mass itself (a judge whose
-- yes+no mass is tiny did not take up the question: no verdict). How each verdict was reached:
-- rule (a deterministic judge), logprob, choice (constrained decoding) or text (parsed from free
-- text, the last resort). NULL where not applicable.
ALTER TABLE class_grades ADD COLUMN p_yes DOUBLE;
ALTER TABLE class_grades ADD COLUMN verdict_mass DOUBLE;
ALTER TABLE class_grades ADD COLUMN verdict_method VARCHAR;
