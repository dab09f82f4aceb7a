"""Synthetic models whose truth is known, for checking the estimators and the noise floor
(``tests/unit/test_floor.py``, ``benchmarks/floor.py``). Pure.

Each of ``n`` questions has a true class distribution (Dirichlet(0.6) over six classes), its M
samples are drawn from it, and the plurality answer is right with its class's true probability
(calibrated by construction), or that minus ``over`` (over-confident by ``over``).
"""

from __future__ import annotations

import numpy as np

from .confidence import plurality, split


def calibrated_model(n: int, m: int, seed: int, over: float = 0.0):
    """Per estimator (confidence, correct) for ``n`` questions with ``m`` samples each, and the
    samples' classes (one array per question)."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet([0.6] * 6, size=n)
    cum = p.cumsum(1)
    classes = (rng.random((n, m, 1)) > cum[:, None, :-1]).sum(2)  # inverse CDF, (n, m)
    luck = rng.random(n)
    out = {}
    for name, fn in (("plurality", plurality), ("split", split)):
        top, conf = zip(*(fn(c) for c in classes))
        chosen = p[np.arange(n), np.array(top)]
        out[name] = (np.array(conf), (luck < np.maximum(0.0, chosen - over)).astype(float))
    return out, list(classes)
