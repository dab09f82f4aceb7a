"""Accuracy, mean confidence and their difference: what the model gets right, how sure it says it
is, and which way it errs (over- or under-confident).

>>> import numpy as np
>>> float(ACCURACY.fn(np.array([0.9, 0.5]), np.array([1.0, 0.0]), 15))
0.5
"""

from __future__ import annotations

from .base import Metric

ACCURACY = Metric("accuracy", "accuracy", lambda f, y, bins: y.mean(-1), "higher",
                  "share of questions whose plurality answer is correct", probability=False)
CONFIDENCE = Metric("confidence", "mean conf", lambda f, y, bins: f.mean(-1), None,
                    "mean share of the plurality class")
OVERCONFIDENCE = Metric("overconfidence", "conf − acc",
                        lambda f, y, bins: f.mean(-1) - y.mean(-1), None,
                        "mean confidence minus accuracy: > 0 over-confident, < 0 under-confident",
                        (-1.0, 1.0))
