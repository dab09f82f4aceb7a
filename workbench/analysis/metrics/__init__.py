"""Calibration metrics over per-question (confidence, correct) pairs: a registry.

``METRICS`` lists every metric in the order tables show them; each entry carries its label and
which direction is better. A new metric is a module here defining a ``Metric`` and one line in
``_REGISTRY``. ``compute`` evaluates them on one run or on many resamples at once.

>>> import numpy as np
>>> compute(np.array([1.0, 0.5]), np.array([1, 0]), which=["accuracy", "brier"])
{'accuracy': 0.5, 'brier': 0.125}
"""

from __future__ import annotations

import numpy as np

from ... import registry
from .base import Metric

_REGISTRY = (  # "module:NAME" in this package, in table order
    "basic:ACCURACY",
    "basic:CONFIDENCE",
    "basic:OVERCONFIDENCE",
    "calibration:SMECE",
    "calibration:ECE",
    "calibration:BRIER",
    "ranking:AUROC",
    "ranking:AURAC",
)


METRICS: dict[str, Metric] = {m.name: m for m in (registry.load(__name__, ref)
                                                    for ref in _REGISTRY)}
NAMES = tuple(METRICS)
# The metrics that do not read confidences as probabilities: they score every measure, including
# those that only rank (analysis/confidence.py).
RANKING = tuple(n for n, m in METRICS.items() if not m.probability)


def compute(f, y, *, bins: int = 15, which=None) -> dict:
    """Each metric of ``which`` (default: all): a float for one run (1-D input), an array over
    the leading axes otherwise."""
    f, y = np.asarray(f, float), np.asarray(y, float)
    out = {}
    for name in which or NAMES:
        value = np.asarray(METRICS[name].fn(f, y, bins), float)
        out[name] = float(value) if value.ndim == 0 else value
    return out
