"""The confidence measures beyond the plurality share (analysis/confidence.py) and the ranking
metrics that score them (AUROC, AURAC): each against a direct implementation of its published
formula, by hand on small cases, and against what a measure that ignores its input must score."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import entropy

from workbench.analysis.confidence import (
    MEASURES,
    answer_logprob,
    estimate,
    n_classes,
    plurality,
    semantic_entropy,
    weighted_semantic_entropy,
)
from workbench.analysis.metrics import METRICS, RANKING, compute


def _random_question(rng, m):
    classes = rng.integers(-1, rng.integers(1, 6), size=m)
    if (classes < 0).all():
        classes[0] = 0
    seqs = [(f"t{c}-{rng.integers(3)}", float(-rng.exponential(3)), int(rng.integers(1, 9)))
            for c in classes]
    return classes, seqs


@pytest.mark.parametrize("m", [2, 5, 20, 50])
def test_discrete_semantic_entropy_is_the_entropy_of_the_class_frequencies(m):
    """Farquhar et al. 2024: H over the classes' shares of the M samples (non-answers one class),
    reported as 1 - H / ln M (scipy's entropy as the independent implementation)."""
    rng = np.random.default_rng(m)
    for _ in range(200):
        classes, _ = _random_question(rng, m)
        _, counts = np.unique(classes, return_counts=True)
        top, conf = semantic_entropy(classes)
        assert top == plurality(classes)[0]
        assert conf == pytest.approx(1 - entropy(counts) / np.log(m), abs=1e-12)


@pytest.mark.parametrize("m", [2, 5, 20])
def test_weighted_semantic_entropy_follows_the_published_estimator(m):
    """Kuhn et al. 2023 as Farquhar et al.'s code computes it: length-normalised log-likelihoods,
    log-sum-exp per class, normalised over classes, H = -sum p ln p."""
    rng = np.random.default_rng(100 + m)
    for _ in range(200):
        classes, seqs = _random_question(rng, m)
        ll = np.array([lp / n for _, lp, n in seqs])
        per_class = np.array([logsumexp(ll[classes == c]) for c in np.unique(classes)])
        p = np.exp(per_class - logsumexp(per_class))
        _, conf = weighted_semantic_entropy(classes, seqs)
        assert conf == pytest.approx(1 - entropy(p) / np.log(m), abs=1e-12)
        assert 0.0 <= conf <= 1.0


def test_the_rest_by_hand():
    seqs = [("Paris", -2.0, 2), ("Paris", -2.0, 2), ("Lyon", -3.0, 1), ("", -0.5, 1)]
    classes = np.array([0, 0, 1, -1])
    assert n_classes(classes) == (0, pytest.approx(1 - 2 / 3))  # 3 classes of 4 samples
    assert n_classes(np.array([4, 4, 4])) == (4, 1.0)
    assert answer_logprob(classes, seqs) == (0, pytest.approx(np.exp(-1.0)))  # -2 / 2 tokens
    for name, m in MEASURES.items():  # no answer: wrong at confidence 0, under every measure
        assert m.fn(np.array([-1, -1]), [("", -1.0, 1)] * 2) == (-1, 0.0), name
    _, conf = semantic_entropy(np.array([0, 0, 0, 0]))
    assert conf == 1.0


def test_aurac_by_hand_and_with_ties_in_every_order():
    """The mean over k of the accuracy of the k most confident; tied confidences averaged over
    every order they could be taken in (enumerated here)."""
    f, y = np.array([0.9, 0.6, 0.2]), np.array([1.0, 0.0, 1.0])
    assert compute(f, y, which=["aurac"])["aurac"] == pytest.approx((1 + 1 / 2 + 2 / 3) / 3)
    f = np.array([0.8, 0.5, 0.5, 0.5, 0.1])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    curves = []
    for perm in itertools.permutations(range(5)):
        order = sorted(perm, key=lambda i: -f[i])  # stable: ties in this permutation's order
        curves.append(np.mean(np.cumsum(y[order]) / np.arange(1, 6)))
    assert compute(f, y, which=["aurac"])["aurac"] == pytest.approx(np.mean(curves))


def test_a_measure_that_ignores_its_input_ranks_at_chance():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.6).astype(float)
    got = compute(np.full(500, 0.3), y, which=list(RANKING))
    assert got["auroc"] == 0.5 and got["aurac"] == pytest.approx(y.mean())
    perfect = compute(y.copy(), y, which=["aurac"])["aurac"]  # every right answer first
    assert perfect > got["aurac"] + 0.2


def test_aurac_over_bootstrap_rows_is_each_rows_aurac():
    rng = np.random.default_rng(1)
    f, y = rng.integers(0, 6, (7, 40)) / 5, (rng.random((7, 40)) < 0.5).astype(float)
    rows = compute(f, y, which=["aurac"])["aurac"]
    assert rows == pytest.approx([compute(a, b, which=["aurac"])["aurac"] for a, b in zip(f, y)])


def test_ranking_measures_get_only_the_metrics_that_read_order():
    assert set(RANKING) == {"accuracy", "auroc", "aurac"}
    assert all(METRICS[m].probability for m in ("smece", "ece", "brier", "confidence"))
    ranking = {n for n, m in MEASURES.items() if not m.probability}
    assert ranking == {"semantic_entropy", "weighted_semantic_entropy", "n_classes",
                       "answer_logprob"}


def test_every_measure_answers_as_plurality_does_except_the_two_that_choose_otherwise():
    rng = np.random.default_rng(3)
    qs = [_random_question(rng, 10) for _ in range(100)]
    verdicts = [{c: bool(c % 2) for c in range(6)} for _ in qs]
    _, y_pl, _ = estimate([c for c, _ in qs], verdicts, "plurality")
    for name in MEASURES:
        if name in ("split", "weighted_plurality"):
            continue
        inputs = ([0.5] * len(qs) if MEASURES[name].elicited  # what the model stated
                  else [s for _, s in qs])
        _, y, kept = estimate([c for c, _ in qs], verdicts, name, inputs)
        assert all(kept) and (y == y_pl).all(), name

