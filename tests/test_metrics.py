"""Metrics against hand-computed cases and against relplot."""

import numpy as np
import pytest
import relplot
import relplot.metrics

from workbench import metrics


def test_hand_computed_cases():
    f = np.array([0.9, 0.9, 0.6, 0.2])
    y = np.array([1, 0, 1, 0])
    assert metrics.accuracy(f, y) == 0.5
    assert metrics.mean_confidence(f, y) == pytest.approx(0.65)
    # Brier: (0.01 + 0.81 + 0.16 + 0.04) / 4
    assert metrics.brier(f, y) == pytest.approx(0.255)
    # 15 bins: {0.9, 0.9} -> |1.8 - 1|, {0.6} -> |0.6 - 1|, {0.2} -> |0.2 - 0|; / 4
    assert metrics.ece_binned(f, y, 15) == pytest.approx((0.8 + 0.4 + 0.2) / 4)
    # AUROC: correct {0.9, 0.6} vs wrong {0.9, 0.2}: pairs (0.9>0.2), (0.9=0.9 -> 1/2),
    # (0.6>0.2), (0.6<0.9) -> 2.5 / 4
    assert metrics.auroc(f, y) == pytest.approx(0.625)


def test_perfect_and_undefined():
    f = np.array([1.0, 1.0, 0.0])
    y = np.array([1, 1, 0])
    assert metrics.ece_binned(f, y) == 0.0
    assert metrics.brier(f, y) == 0.0
    assert metrics.auroc(f, y) == 1.0
    assert np.isnan(metrics.auroc(np.array([0.3, 0.7]), np.array([1, 1])))


def test_auroc_against_pairwise_definition():
    rng = np.random.default_rng(0)
    f = rng.choice(np.linspace(0, 1, 11), 300)  # many ties
    y = rng.uniform(size=300) < f
    pos, neg = f[y], f[~y]
    brute = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert metrics.auroc(f, y) == pytest.approx(brute)


def test_smece_is_relplots_and_ece_agrees_with_relplot_binning():
    rng = np.random.default_rng(1)
    f = rng.uniform(0.01, 0.99, 500)
    y = (rng.uniform(size=500) < f ** 1.5).astype(float)
    assert metrics.smece(f, y) == pytest.approx(relplot.smECE(f, y))
    assert metrics.ece_binned(f, y, 15) == pytest.approx(relplot.metrics.binnedECE(f, y, 15))


def test_calibrated_data_scores_near_zero_and_miscalibrated_does_not():
    rng = np.random.default_rng(2)
    f = rng.uniform(size=4000)
    y = (rng.uniform(size=4000) < f).astype(float)
    assert metrics.smece(f, y) < 0.03
    over = np.clip(f + 0.25, 0, 1)  # overconfident by 0.25
    assert metrics.smece(over, y) > 0.15


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    f = rng.uniform(size=200)
    y = (rng.uniform(size=200) < f).astype(float)
    a = metrics.bootstrap(f, y, n_bootstrap=200, seed=5)
    b = metrics.bootstrap(f, y, n_bootstrap=200, seed=5)
    assert a == b
    for name, e in a.items():
        assert e.ci_low <= e.value <= e.ci_high, name
    assert a["accuracy"].ci_high - a["accuracy"].ci_low == pytest.approx(0.14, abs=0.05)
    with pytest.raises(ValueError):
        metrics.bootstrap(np.array([]), np.array([]))


def test_percentile_interval_can_miss_smece_but_the_default_centres_it():
    rng = np.random.default_rng(3)
    f = rng.uniform(size=200)
    y = (rng.uniform(size=200) < f).astype(float)
    pct = metrics.bootstrap(f, y, n_bootstrap=200, seed=5, method="percentile")["smece"]
    assert pct.ci_low > pct.value  # the upward bias of resampled calibration errors
    normal = metrics.bootstrap(f, y, n_bootstrap=200, seed=5)["smece"]
    assert normal.ci_low < normal.value < normal.ci_high
    assert normal.value - normal.ci_low == pytest.approx(normal.ci_high - normal.value)


def test_intervals_agree_with_scipy_on_a_mean():
    from scipy import stats

    rng = np.random.default_rng(4)
    f = rng.beta(2, 5, 150)
    y = (rng.uniform(size=150) < 0.5).astype(float)
    ref = stats.bootstrap((f,), np.mean, n_resamples=4000, method="percentile",
                          random_state=np.random.default_rng(1))
    pct = metrics.bootstrap(f, y, n_bootstrap=4000, seed=1, method="percentile",
                             which=("confidence",))["confidence"]
    assert pct.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.004)
    assert pct.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.004)
    normal = metrics.bootstrap(f, y, n_bootstrap=4000, seed=1, which=("confidence",))["confidence"]
    assert (normal.ci_high - normal.ci_low) / (2 * 1.96) == pytest.approx(
        ref.standard_error, rel=0.05)
