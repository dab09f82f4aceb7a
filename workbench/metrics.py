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


def point_estimates(f, y, bins: int = 15) -> dict[str, float]:
    return {
        "accuracy": accuracy(f, y),
        "confidence": mean_confidence(f, y),
        "smece": smece(f, y),
        "ece": ece_binned(f, y, bins),
        "brier": brier(f, y),
        "auroc": auroc(f, y),
    }


def bootstrap(f, y, *, n_bootstrap: int = 1000, seed: int = 0, bins: int = 15,
              level: float = 0.95) -> dict[str, Estimate]:
    """Every metric with a percentile interval from resampling questions with replacement.

    Resamples in which a metric is undefined (AUROC with one class) are left out of its interval.
    """
    f, y = np.asarray(f, float), np.asarray(y, float)
    if len(f) == 0:
        raise ValueError("no scored questions")
    point = point_estimates(f, y, bins)
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in METRICS}
    for _ in range(n_bootstrap):
        i = rng.integers(0, len(f), len(f))
        for k, v in point_estimates(f[i], y[i], bins).items():
            draws[k].append(v)
    alpha = (1 - level) / 2
    out = {}
    for k in METRICS:
        d = np.asarray(draws[k])
        d = d[~np.isnan(d)]
        lo, hi = (np.quantile(d, [alpha, 1 - alpha]) if len(d) else (np.nan, np.nan))
        out[k] = Estimate(point[k], float(lo), float(hi))
    return out
