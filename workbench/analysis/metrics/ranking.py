"""AUROC: does the model put more confidence on its right answers than on its wrong ones?

>>> import numpy as np
>>> float(AUROC.fn(np.array([0.9, 0.9, 0.6, 0.2]), np.array([1.0, 0.0, 1.0, 0.0]), 15))
0.625
"""

from __future__ import annotations

import numpy as np

from .base import Metric


def auroc(f: np.ndarray, y: np.ndarray, bins: int) -> np.ndarray:
    """Probability that a correct answer has higher confidence than a wrong one (ties count
    half), from average ranks along the last axis; NaN when all answers are right or all wrong.
    Written with ranks, not ``sklearn.metrics.roc_auc_score``, because it scores a thousand
    bootstrap resamples in one call; a test checks it against scikit-learn."""
    # scipy takes ~1 s to import: only where a figure is computed, not for every CLI command.
    from scipy.stats import rankdata

    pos = y.astype(bool)
    n_pos = pos.sum(-1)
    n_neg = y.shape[-1] - n_pos
    ranks = rankdata(f, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ((ranks * pos).sum(-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos == 0) | (n_neg == 0), np.nan, out)


AUROC = Metric("auroc", "AUROC", auroc, "higher",
               "chance that a right answer gets more confidence than a wrong one")
