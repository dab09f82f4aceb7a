"""Bootstrap intervals: resample questions with replacement, recompute every metric.

Resamples are drawn one index vector at a time from a seeded generator (so the numbers do not
depend on how they are evaluated) and scored all at once as a ``(resamples, questions)`` array.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..errors import MeasurementError, UsageError
from .metrics import METRICS, NAMES, compute

METHODS = ("normal", "percentile")


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float
    floor_mean: float | None = None  # a calibrated model's score here (calibration errors)
    floor_p95: float | None = None



# Resamples, floor draws and ablation repeats a stage accepts: 100,000 bootstrap resamples of
# 1,000 questions take about a minute here; a billion would hold the writer for weeks.
MAX_DRAWS = 100_000


def check_draws(param: str, value: int, low: int = 0) -> None:
    """Refuse a resample count below ``low`` or above ``MAX_DRAWS``, naming ``param``."""
    if not low <= value <= MAX_DRAWS:
        raise UsageError(param, f"must be between {low} and {MAX_DRAWS:,}, got {value}")

def resample_indices(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """``(n_bootstrap, n)`` question indices drawn with replacement, seeded."""
    rng = np.random.default_rng(seed)
    return np.array([rng.integers(0, n, n) for _ in range(n_bootstrap)]).reshape(
        n_bootstrap, n)


def z_value(level: float) -> float:
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def bootstrap(f, y, *, n_bootstrap: int = 1000, seed: int = 0, bins: int = 15,
              level: float = 0.95, method: str = "normal", which=None) -> dict[str, Estimate]:
    """Every metric with a bootstrap interval from resampling questions with replacement.

    ``method="normal"`` (default): estimate ± z·SE, with SE the standard deviation of the
    resampled values, clipped to the metric's bounds ([0, 1] for most). Calibration errors are
    biased upward under resampling (duplicated questions look more miscalibrated), so a plain
    percentile interval can lie wholly above the estimate; the normal interval keeps the estimate
    at its centre and reports the spread, as relplot's own "smECE ± ..." does.
    ``"percentile"``: plain percentiles. Resamples in which a metric is undefined (AUROC with one
    class) are left out of its interval; one question has no interval at all (NaN, shown as
    undefined), since resampling it only repeats it.
    """
    f, y = np.asarray(f, float), np.asarray(y, float)
    if len(f) == 0:
        raise MeasurementError("no scored question: every question lacks a verdict")
    if method not in METHODS:
        raise UsageError("method", f"{method!r} is not one of {', '.join(METHODS)}")
    which = which or NAMES
    point = compute(f, y, bins=bins, which=which)
    idx = resample_indices(len(f), n_bootstrap, seed)
    draws = compute(f[idx], y[idx], bins=bins, which=which) if n_bootstrap else {}
    alpha = (1 - level) / 2
    z = z_value(level)
    out = {}
    for k in which:
        d = np.asarray(draws.get(k, []))
        d = d[~np.isnan(d)]
        if len(d) < 2 or np.isnan(point[k]) or len(f) < 2:  # one question: no interval
            out[k] = Estimate(point[k], float("nan"), float("nan"))
        elif method == "normal":
            se = float(np.std(d, ddof=1))
            lo, hi = METRICS[k].bounds
            out[k] = Estimate(point[k], max(lo, point[k] - z * se), min(hi, point[k] + z * se))
        else:
            lo, hi = np.quantile(d, [alpha, 1 - alpha])
            out[k] = Estimate(point[k], float(lo), float(hi))
    return out
