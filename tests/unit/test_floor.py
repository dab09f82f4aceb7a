"""The noise floor and the confidence estimators, on synthetic models whose truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.analysis.confidence import plurality
from workbench.analysis.floor import distribution, floor
from workbench.analysis.metrics import compute
from workbench.analysis.simulate import calibrated_model
from workbench.errors import UsageError


def test_split_estimator_removes_the_plurality_bias():
    """M = 10: the plurality share overstates a calibrated model's confidence; the share of
    the chosen class in the other half of the samples does not."""
    res, _ = calibrated_model(20000, 10, seed=0)  # the gap's standard error: about 0.0035
    gap = {k: float(f.mean() - y.mean()) for k, (f, y) in res.items()}
    assert gap["plurality"] > 0.07  # measured: +0.096 (seeds 0-3: +0.090 to +0.097)
    assert abs(gap["split"]) < 0.012  # measured: -0.002 (seeds 0-3: -0.005 to +0.001)


def test_the_floors_95th_percentile_holds_for_calibrated_models_and_not_for_overconfident():
    """Coverage: over many calibrated models (N = 40, M = 10) about 5% score above their
    floor's 95th percentile (measured: 5% of 60 seeds), and a model 0.2 overconfident nearly
    always does."""
    above, caught = [], []
    for seed in range(30):
        res, classes = calibrated_model(40, 10, seed=100 + seed)
        fl = floor([distribution(c) for c in classes], 10, draws=100, seed=seed)["smece"]
        above.append(compute(*res["plurality"], which=["smece"])["smece"] > fl.p95)
        over, _ = calibrated_model(40, 10, seed=100 + seed, over=0.2)
        caught.append(compute(*over["plurality"], which=["smece"])["smece"] > fl.p95)
        assert 0.05 < fl.mean < fl.p95 < 0.35  # N = 40, M = 10: a high floor
    assert np.mean(above) <= 0.15 and np.mean(caught) >= 0.9


def test_the_floor_falls_with_more_questions_and_samples():
    _, small = calibrated_model(40, 10, seed=2)
    _, large = calibrated_model(400, 50, seed=2)
    a = floor([distribution(c) for c in small], 10, draws=100, seed=0)["smece"]
    b = floor([distribution(c) for c in large], 50, draws=100, seed=0)["smece"]
    assert b.mean < a.mean / 2 and b.p95 < a.p95 / 2


def test_floor_draws_are_seeded_and_use_the_scores_estimator():
    _, classes = calibrated_model(30, 10, seed=3)
    dists = [distribution(c) for c in classes]
    assert floor(dists, 10, draws=30, seed=4) == floor(dists, 10, draws=30, seed=4)
    assert floor(dists, 10, draws=30, seed=4) != floor(dists, 10, draws=30, seed=4,
                                                       estimator="split")


def test_the_floor_breaks_ties_as_the_score_does():
    """A tie goes to the class drawn first, as the score's plurality (class ids follow first
    appearance) breaks it; the floor took the lowest observed class id instead."""
    from workbench.analysis.floor import plurality_class

    rng = np.random.default_rng(0)
    k = 5  # four answer classes, then no answer
    draws = rng.integers(0, k, size=(2000, 6))
    top, answered = plurality_class(draws, k)
    for row, t, a in zip(draws, top, answered):
        seen = list(dict.fromkeys(c for c in row if c < k - 1))  # first-appearance order
        relabelled = np.array([seen.index(c) if c < k - 1 else -1 for c in row])
        want, _ = plurality(relabelled)
        assert a == (want >= 0) and (not a or seen[want] == t), row
    assert plurality_class(np.array([[3, 1, 1, 3]]), 5)[0][0] == 3  # tied 2-2: 3 came first


def test_the_shortcut_measure_counts_a_constructed_collapse_exactly():
    """A policy that answers 'capital of X?' with X on 7 of 10 questions, 'Paris' on 2 and
    nothing on 1: echo share 7/9 of answered questions; the commonest answer 2/9."""
    from workbench.analysis.shortcut import shortcuts

    countries = ["Tonga", "Bahrain", "Cyprus", "Palau", "Lesotho", "Mauritius", "Botswana"]
    rows = [dict(question=f"What is the capital of {c}?", answer=c, answer_key=c.lower())
            for c in countries]
    rows += [dict(question=f"What is the capital of {c}?", answer="Paris", answer_key="paris")
             for c in ("France", "Peru")]
    rows += [dict(question="What is the capital of Chad?", answer=None, answer_key=None)]
    s = shortcuts(rows)
    assert s.echo_share == 7 / 9 and s.top_answer == "paris" and s.top_answer_share == 2 / 9
    assert shortcuts(rows[-1:]).echo_share is None  # nothing answered: no figure


def test_weighted_plurality_by_hand():
    from workbench.analysis.confidence import weighted_plurality

    e = math.exp
    # a sequence drawn twice counts once; the no-answer sequence counts in the whole
    classes = np.array([0, 0, 1, -1])
    seqs = [("Paris", -0.1), ("Paris", -0.1), ("Lyon", -1.0), ("", -2.0)]
    top, conf = weighted_plurality(classes, seqs)
    assert top == 0 and conf == pytest.approx(e(-0.1) / (e(-0.1) + e(-1.0) + e(-2.0)))
    # two texts of one class add up, and can outweigh a likelier single text
    top, conf = weighted_plurality(np.array([0, 0, 1]), [("a", -1.0), ("b", -1.0),
                                                        ("c", -0.5)])
    assert top == 0 and conf == pytest.approx(2 * e(-1.0) / (2 * e(-1.0) + e(-0.5)))
    assert weighted_plurality(np.array([1, 0]), [("x", -1.0), ("y", -1.0)]) == (0, 0.5)
    assert weighted_plurality(np.array([-1, -1]), [("", -1.0), ("?", -1.0)]) == (-1, 0.0)


def test_the_floor_is_refused_for_an_estimator_it_cannot_simulate():
    with pytest.raises(UsageError, match="has no floor"):
        floor([np.array([0.5, 0.5, 0.0])], 10, estimator="weighted_plurality", draws=5)
