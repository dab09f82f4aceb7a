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
