"""Metrics against hand-computed cases, relplot, scikit-learn and scipy; the registry."""

import numpy as np
import pytest
import relplot
import relplot.metrics

from workbench.analysis.metrics import METRICS, NAMES, compute
from workbench.analysis.resample import bootstrap, resample_indices
from workbench.errors import MeasurementError


def metric(name, f, y, bins=15):
    return compute(f, y, bins=bins, which=[name])[name]


def test_hand_computed_cases():
    f = np.array([0.9, 0.9, 0.6, 0.2])
    y = np.array([1, 0, 1, 0])
    assert metric("accuracy", f, y) == 0.5
    assert metric("confidence", f, y) == pytest.approx(0.65)
    # Brier: (0.01 + 0.81 + 0.16 + 0.04) / 4
    assert metric("brier", f, y) == pytest.approx(0.255)
    # 15 bins: {0.9, 0.9} -> |1.8 - 1|, {0.6} -> |0.6 - 1|, {0.2} -> |0.2 - 0|; / 4
    assert metric("ece", f, y) == pytest.approx((0.8 + 0.4 + 0.2) / 4)
    # AUROC: correct {0.9, 0.6} vs wrong {0.9, 0.2}: pairs (0.9>0.2), (0.9=0.9 -> 1/2),
    # (0.6>0.2), (0.6<0.9) -> 2.5 / 4
    assert metric("auroc", f, y) == pytest.approx(0.625)


def test_perfect_and_undefined():
    f = np.array([1.0, 1.0, 0.0])
    y = np.array([1, 1, 0])
    assert metric("ece", f, y) == 0.0
    assert metric("brier", f, y) == 0.0
    assert metric("auroc", f, y) == 1.0
    assert np.isnan(metric("auroc", np.array([0.3, 0.7]), np.array([1, 1])))


def test_auroc_against_pairwise_definition():
    rng = np.random.default_rng(0)
    f = rng.choice(np.linspace(0, 1, 11), 300)  # many ties
    y = rng.uniform(size=300) < f
    pos, neg = f[y], f[~y]
    brute = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert metric("auroc", f, y) == pytest.approx(brute)


def test_batched_smece_is_relplots_to_1e_9():
    """Our smECE runs relplot's bandwidth search for many rows at once; on random inputs of
    every shape it gives relplot's numbers, one row at a time or a thousand together."""
    rng = np.random.default_rng(11)
    for trial in range(120):
        n = int(rng.integers(3, 300))
        f = [rng.uniform(size=n), rng.choice(np.linspace(0, 1, 11), n), rng.beta(5, 1, n),
             np.full(n, rng.uniform())][trial % 4]
        y = (rng.uniform(size=n) < np.clip(f, 0, 1) ** rng.uniform(0.3, 3)).astype(float)
        assert metric("smece", f, y) == pytest.approx(relplot.smECE(f, y), abs=1e-9)
    f = rng.choice(np.linspace(0, 1, 21), 120)
    y = (rng.uniform(size=120) < f).astype(float)
    idx = resample_indices(120, 200, seed=1)
    batched = metric("smece", f[idx], y[idx])
    assert np.abs(batched - [relplot.smECE(f[i], y[i]) for i in idx]).max() < 1e-9


def test_smece_is_relplots_and_ece_agrees_with_relplot_binning():
    rng = np.random.default_rng(1)
    f = rng.uniform(0.01, 0.99, 500)
    y = (rng.uniform(size=500) < f ** 1.5).astype(float)
    assert metric("smece", f, y) == pytest.approx(relplot.smECE(f, y))
    assert metric("ece", f, y) == pytest.approx(relplot.metrics.binnedECE(f, y, 15))


def test_calibrated_data_scores_near_zero_and_miscalibrated_does_not():
    rng = np.random.default_rng(2)
    f = rng.uniform(size=4000)
    y = (rng.uniform(size=4000) < f).astype(float)
    assert metric("smece", f, y) < 0.03
    over = np.clip(f + 0.25, 0, 1)  # overconfident by 0.25
    assert metric("smece", over, y) > 0.15


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    f = rng.uniform(size=200)
    y = (rng.uniform(size=200) < f).astype(float)
    a = bootstrap(f, y, n_bootstrap=200, seed=5)
    b = bootstrap(f, y, n_bootstrap=200, seed=5)
    assert a == b
    for name, e in a.items():
        assert e.ci_low <= e.value <= e.ci_high, name
    assert a["accuracy"].ci_high - a["accuracy"].ci_low == pytest.approx(0.14, abs=0.05)
    with pytest.raises(MeasurementError, match="no scored question"):  # not a flag: no --f
        bootstrap(np.array([]), np.array([]))


def test_percentile_interval_can_miss_smece_but_the_default_centres_it():
    rng = np.random.default_rng(3)
    f = rng.uniform(size=200)
    y = (rng.uniform(size=200) < f).astype(float)
    pct = bootstrap(f, y, n_bootstrap=200, seed=5, method="percentile")["smece"]
    assert pct.ci_low > pct.value  # the upward bias of resampled calibration errors
    normal = bootstrap(f, y, n_bootstrap=200, seed=5)["smece"]
    assert normal.ci_low < normal.value < normal.ci_high
    assert normal.value - normal.ci_low == pytest.approx(normal.ci_high - normal.value)


def test_intervals_agree_with_scipy_on_a_mean():
    from scipy import stats

    rng = np.random.default_rng(4)
    f = rng.beta(2, 5, 150)
    y = (rng.uniform(size=150) < 0.5).astype(float)
    ref = stats.bootstrap((f,), np.mean, n_resamples=4000, method="percentile",
                          random_state=np.random.default_rng(1))
    pct = bootstrap(f, y, n_bootstrap=4000, seed=1, method="percentile",
                             which=("confidence",))["confidence"]
    assert pct.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.004)
    assert pct.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.004)
    normal = bootstrap(f, y, n_bootstrap=4000, seed=1, which=("confidence",))["confidence"]
    assert (normal.ci_high - normal.ci_low) / (2 * 1.96) == pytest.approx(
        ref.standard_error, rel=0.05)


def test_registry_carries_labels_and_directions_in_table_order():
    assert NAMES == ("accuracy", "confidence", "overconfidence", "smece", "ece", "brier",
                     "auroc", "aurac")
    assert {n: m.better for n, m in METRICS.items()} == {
        "accuracy": "higher", "confidence": None, "overconfidence": None, "smece": "lower",
        "ece": "lower", "brier": "lower", "auroc": "higher", "aurac": "higher"}
    assert METRICS["smece"].label == "smECE" and all(m.label for m in METRICS.values())


def test_auroc_agrees_with_scikit_learn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    for _ in range(20):
        f = rng.choice(np.linspace(0, 1, 7), 60)  # ties
        y = (rng.uniform(size=60) < f).astype(float)
        assert metric("auroc", f, y) == pytest.approx(roc_auc_score(y, f), abs=1e-12)


def test_many_rows_at_once_equal_one_row_at_a_time():
    """Every metric reduces the last axis: a (resamples, n) array scores like a loop."""
    rng = np.random.default_rng(8)
    f = rng.choice(np.linspace(0, 1, 11), 80)
    y = (rng.uniform(size=80) < f).astype(float)
    idx = resample_indices(80, 25, seed=3)
    batched = compute(f[idx], y[idx], bins=10)
    for i, row in enumerate(idx):
        single = compute(f[row], y[row], bins=10)
        for name in NAMES:
            assert batched[name][i] == pytest.approx(single[name], abs=1e-12, nan_ok=True)


def test_resamples_are_drawn_as_one_vector_each():
    """The index matrix holds the vectors a generator gives one resample at a time, so the
    intervals do not depend on how resamples are evaluated."""
    rng = np.random.default_rng(5)
    expected = np.array([rng.integers(0, 37, 37) for _ in range(10)])
    assert (resample_indices(37, 10, seed=5) == expected).all()


def test_overconfidence_is_signed_and_its_interval_is_not_clipped_at_zero():
    """Confidence minus accuracy: positive when over-confident, negative when under-confident;
    its bootstrap interval may lie below 0 (the metric's bounds are [-1, 1])."""
    from workbench.analysis.metrics import compute
    from workbench.analysis.resample import bootstrap

    assert compute(np.array([1.0, 0.5]), np.array([1, 0]), which=["overconfidence"]) == {
        "overconfidence": 0.25}
    rng = np.random.default_rng(3)
    f = rng.uniform(0.2, 0.5, 200)
    y = (rng.uniform(size=200) < 0.8).astype(float)  # right 80% of the time at ~35% confidence
    est = bootstrap(f, y, n_bootstrap=200, which=["overconfidence"])["overconfidence"]
    assert est.value < -0.3 and est.ci_low < est.value < est.ci_high < 0


def test_auroc_by_counts_equals_auroc_by_ranks():
    """Both ways of counting, on discrete shares (counts) and continuous values (ranks), on
    bootstrap rows where some rows miss values the first row has and the reverse."""
    from workbench.analysis.metrics.ranking import _by_ranks, auroc

    rng = np.random.default_rng(11)
    for values in (np.linspace(0, 1, 21), None):
        f0 = rng.choice(values, 400) if values is not None else rng.uniform(size=400)
        y0 = (rng.uniform(size=400) < f0).astype(float)
        idx = resample_indices(400, 50, seed=1)
        np.testing.assert_allclose(auroc(f0[idx], y0[idx], 15), _by_ranks(f0[idx], y0[idx]),
                                   atol=1e-12)


def test_pooling_seeds_widens_the_interval_by_their_spread():
    """One seed: the pooled interval is the paired diff's. Three seeds whose effects disagree:
    the point is their mean and the interval is wider than any one seed's paired interval."""
    from workbench.analysis.diff import Point, diff, pooled

    rng = np.random.default_rng(0)

    def side(conf):
        return [Point(f"q{i}", "q", "a", "a", float(np.clip(conf + rng.normal(0, .05), 0, 1)),
                      bool(rng.random() < .6)) for i in range(80)]

    base, seeds = side(.5), [side(.6), side(.9), side(.75)]
    one = {m.metric: m for m in pooled(base, seeds[:1], n_bootstrap=400).metrics}
    paired = {m.metric: m for m in diff(base, seeds[0], n_bootstrap=400).metrics}
    o, p = one["confidence"], paired["confidence"]
    assert (o.delta, o.ci_low, o.ci_high) == pytest.approx((p.delta, p.ci_low, p.ci_high))
    three = pooled(base, seeds, n_bootstrap=400)
    assert three.n_shared == 80
    three = {m.metric: m for m in three.metrics}
    each = [{m.metric: m for m in diff(base, s, n_bootstrap=400).metrics}["confidence"]
            for s in seeds]
    c = three["confidence"]
    assert c.delta == pytest.approx(np.mean([e.delta for e in each]))
    assert c.ci_high - c.ci_low > max(e.ci_high - e.ci_low for e in each)


def test_the_overlays_legend_hides_no_curve():
    """The compare overlay's legend sits beside the plot: it covered the upper left, where a
    variant's curve runs when its accuracy is high at low confidence."""
    import numpy as np

    from workbench.analysis import diagram

    rng = np.random.default_rng(0)
    curves = []
    for name in ("gemma-3-270m · concise", "gemma-3-270m-rl-s0 · concise"):
        f = rng.uniform(0.1, 1, 200)
        curves.append((name, diagram.prepare(f, (rng.uniform(size=200) < f).astype(float),
                                             band=False)))
    plt = diagram._pyplot()
    fig = diagram.overlay_figure(plt, curves, "caps")
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        legend, plot = ax.get_legend().get_window_extent(), ax.get_window_extent()
        assert not legend.overlaps(plot), (legend, plot)
    finally:
        plt.close(fig)
