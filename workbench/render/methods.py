"""A score's methods, in words a paper's appendix can take as they are: what was asked, how it
was sampled, read, judged and scored, and with which versions (pure: the rows in, text out)."""

from __future__ import annotations


def methods(run: dict, grading: dict, score: dict, dataset: str) -> str:
    """One paragraph from a score's run, grading and score rows (``store.queries.one``).

    >>> print(methods(dict(model="gemma-3-270m", model_kind="base", backend="transformers",
    ...     dtype="float32", n_questions=96, samples_per_question=20, style="concise",
    ...     prompt_format="completion", shots=5, temperature=1.0, top_p=1.0, top_k=0,
    ...     max_new_tokens=16, seed=0, package_version="0.1.0", git_sha="e8189e0451"),
    ...     dict(extractor="rules-v6", judge="exact", judge_version="5"),
    ...     dict(estimator="plurality", n_bootstrap=500, seed=0, ece_bins=15, floor_draws=200,
    ...          truncated_share=0.021, n_questions=96, n_excluded=0), "bundled:capitals:test"))
    ... # doctest: +NORMALIZE_WHITESPACE
    gemma-3-270m (base; transformers, float32) answered N = 96 questions of
    bundled:capitals:test, M = 20 samples each, with a concise completion prompt of 5 examples,
    at temperature 1, no top-p or top-k truncation, at most 16 new tokens (2.1% of samples hit
    that budget without an answer); sampling seed 0. Answers were read and grouped into
    meaning classes by rules-v6 and judged by exact (version 5); each question's answer is its
    plurality class and its confidence the class's share of the samples (estimator
    plurality); 96 questions scored, 0 left out without a verdict. smECE is relplot's, ECE
    over 15 equal-width bins; intervals are 95% from 500 bootstrap resamples of questions
    (seed 0); the floor is a calibrated model's score at this N and M (200 draws). workbench
    0.1.0 (git e8189e0451).
    """
    truncation = []
    if run.get("top_p") is not None and run["top_p"] < 1:
        truncation.append(f"top-p {run['top_p']:g}")
    if run.get("top_k"):
        truncation.append(f"top-k {run['top_k']}")
    cut = ", ".join(truncation) if truncation else "no top-p or top-k truncation"
    share = score.get("truncated_share")
    budget = f"at most {run['max_new_tokens']} new tokens" + (
        f" ({share:.1%} of samples hit that budget without an answer)" if share is not None
        else "")
    engine = ", ".join(str(v) for v in (run.get("backend"), run.get("dtype")) if v)
    shots = run.get("shots") or 0
    prompt = (f"a {run['style']} {run['prompt_format']} prompt"
              + (f" of {shots} example{'s' if shots != 1 else ''}" if shots else ""))
    estimator = score.get("estimator") or "plurality"
    reading = ("each question's answer is its plurality class and its confidence the class's "
               "share of the samples" if estimator == "plurality" else
               f"each question's answer and confidence are the {estimator} measure's "
               "(workbench's analysis/confidence.py)")
    floor = (f"; the floor is a calibrated model's score at this N and M "
             f"({score['floor_draws']} draws)" if score.get("floor_draws") else "")
    version = f"workbench {run.get('package_version')}" + (
        f" (git {run['git_sha'][:10]})" if run.get("git_sha") else "")
    return (f"{run['model']} ({run.get('model_kind')}; {engine}) answered N = "
            f"{run['n_questions']} questions of {dataset}, M = {run['samples_per_question']} "
            f"samples each, with {prompt}, at temperature {run['temperature']:g}, {cut}, "
            f"{budget}; sampling seed {run['seed']}. Answers were read and grouped into meaning "
            f"classes by {grading['extractor']} and judged by {grading['judge']} (version "
            f"{grading['judge_version']}); {reading} (estimator {estimator}); "
            f"{score['n_questions']} questions scored, "
            f"{score.get('n_excluded') or 0} left out without a verdict. smECE is relplot's, "
            f"ECE over {score['ece_bins']} equal-width bins; intervals are 95% from "
            f"{score['n_bootstrap']} bootstrap resamples of questions (seed {score['seed']})"
            f"{floor}. {version}.")
