"""What a metric is: a pure function of confidences and correctness, with how to show it.

``fn(f, y, bins)`` takes arrays of shape ``(..., n)`` (``f`` confidences in [0, 1], ``y`` 0/1
correctness) and reduces the last axis, so one call scores a single run (shape ``(n,)``) or a
thousand bootstrap resamples at once (shape ``(1000, n)``). Undefined values are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # how tables head its column
    fn: MetricFn
    better: str | None  # "higher", "lower", or None (neither: a description, not a score)
    about: str = ""
    bounds: tuple[float, float] = (0.0, 1.0)  # where its values lie (intervals are clipped)
    probability: bool = True  # reads f as a probability of being right (calibration); False:
    # only its order (or not f at all), so it also scores a measure that ranks, like entropy


def distinct_codes(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each confidence's index among the distinct values of ``f``, and those values
    (ascending). Confidences are shares of M samples, so a run has few distinct values, and a
    metric that depends only on them can count per value instead of per question. Bootstrap
    rows are resamples of one set of values, so the first row's distinct values are all or
    nearly all of them: the few missing are found and merged, with no sort of the whole."""
    rows = f.reshape(-1, f.shape[-1])
    values = np.unique(rows[0])
    pos = np.minimum(np.searchsorted(values, f), len(values) - 1)
    missing = values[pos] != f
    if missing.any():
        values = np.union1d(values, f[missing])
        pos = np.searchsorted(values, f)
    return pos, values
