"""Calibration metrics over per-question (confidence, correct) pairs, and bootstrap intervals.

Pure functions of numpy arrays: ``f`` holds confidences in [0, 1], ``y`` 0/1 correctness.

>>> brier(np.array([1.0, 0.5]), np.array([1, 0]))
0.125
>>> ece_binned(np.array([0.9, 0.9]), np.array([1, 0]), bins=15)
0.4
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("accuracy", "confidence", "smece", "ece", "brier", "auroc")


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float


def accuracy(f, y) -> float:
    return float(np.mean(y))


def mean_confidence(f, y) -> float:
    return float(np.mean(f))


def smece(f, y) -> float:
    """Smooth ECE (Błasiok & Nakkiran), through relplot, bandwidth chosen automatically."""
    import relplot

    return float(relplot.smECE(np.asarray(f, float), np.asarray(y, float)))


def ece_binned(f, y, bins: int = 15) -> float:
    """Binned ECE with equal-width bins; a confidence of exactly 1 falls in the last bin."""
    f, y = np.asarray(f, float), np.asarray(y, float)
    idx = np.minimum((f * bins).astype(int), bins - 1)
    gap = np.bincount(idx, weights=f - y, minlength=bins)
    return float(np.abs(gap).sum() / len(f))


def brier(f, y) -> float:
    f, y = np.asarray(f, float), np.asarray(y, float)
    return float(np.mean((f - y) ** 2))


def auroc(f, y) -> float:
    """Probability that a correct answer has higher confidence than a wrong one (ties count
    half); NaN when all answers are right or all wrong."""
    f, y = np.asarray(f, float), np.asarray(y, bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(f)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    # Ties get the mean of the ranks they span.
    _, start, counts = np.unique(sorted_x, return_index=True, return_counts=True)
    mean_rank = start + (counts + 1) / 2
    ranks[order] = np.repeat(mean_rank, counts)
    return ranks


def point_estimates(f, y, bins: int = 15, which=METRICS) -> dict[str, float]:
    fns = {"accuracy": accuracy, "confidence": mean_confidence, "smece": smece,
           "ece": lambda f, y: ece_binned(f, y, bins), "brier": brier, "auroc": auroc}
    return {k: fns[k](f, y) for k in which}


def bootstrap(f, y, *, n_bootstrap: int = 1000, seed: int = 0, bins: int = 15,
              level: float = 0.95, method: str = "normal", which=METRICS
              ) -> dict[str, Estimate]:
    """Every metric with a bootstrap interval from resampling questions with replacement.

    ``method="normal"`` (default): estimate ± z·SE, with SE the standard deviation of the
    resampled values, clipped to [0, 1]. Calibration errors are biased upward under resampling
    (duplicated questions look more miscalibrated), so a plain percentile interval can lie wholly
    above the estimate; the normal interval keeps the estimate at its centre and reports the
    spread, as relplot's own "smECE ± ..." does. ``"percentile"``: plain percentiles. Resamples
    in which a metric is undefined (AUROC with one class) are left out of its interval.
    """
    from statistics import NormalDist

    f, y = np.asarray(f, float), np.asarray(y, float)
    if len(f) == 0:
        raise ValueError("no scored questions")
    if method not in ("normal", "percentile"):
        raise ValueError(f"unknown bootstrap method {method!r}")
    point = point_estimates(f, y, bins, which)
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in which}
    for _ in range(n_bootstrap):
        i = rng.integers(0, len(f), len(f))
        for k, v in point_estimates(f[i], y[i], bins, which).items():
            draws[k].append(v)
    alpha = (1 - level) / 2
    z = NormalDist().inv_cdf(1 - alpha)
    out = {}
    for k in which:
        d = np.asarray(draws[k])
        d = d[~np.isnan(d)]
        if len(d) < 2 or np.isnan(point[k]):
            out[k] = Estimate(point[k], float("nan"), float("nan"))
        elif method == "normal":
            se = float(np.std(d, ddof=1))
            out[k] = Estimate(point[k], max(0.0, point[k] - z * se), min(1.0, point[k] + z * se))
        else:
            lo, hi = np.quantile(d, [alpha, 1 - alpha])
            out[k] = Estimate(point[k], float(lo), float(hi))
    return out
