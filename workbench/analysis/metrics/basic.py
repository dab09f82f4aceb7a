"""Accuracy and mean confidence: what the model gets right, and how sure it says it is.

>>> import numpy as np
>>> float(ACCURACY.fn(np.array([0.9, 0.5]), np.array([1.0, 0.0]), 15))
0.5
"""

from __future__ import annotations

from .base import Metric

ACCURACY = Metric("accuracy", "accuracy", lambda f, y, bins: y.mean(-1), "higher",
                  "share of questions whose plurality answer is correct")
CONFIDENCE = Metric("confidence", "mean conf", lambda f, y, bins: f.mean(-1), None,
                    "mean share of the plurality class")
