"""Calibration errors: smooth ECE (the paper's measure), binned ECE and the Brier score.

>>> import numpy as np
>>> float(BRIER.fn(np.array([1.0, 0.5]), np.array([1.0, 0.0]), 15))
0.125
>>> float(ECE.fn(np.array([0.9, 0.9]), np.array([1.0, 0.0]), 15))
0.4
"""

from __future__ import annotations

import numpy as np

from . import smooth
from .base import Metric


def smece(f: np.ndarray, y: np.ndarray, bins: int) -> np.ndarray:
    """Smooth ECE (Błasiok & Nakkiran), bandwidth chosen as relplot chooses it, over any
    leading axes at once (``smooth.py``: relplot's algorithm, batched)."""
    flat_f, flat_y = f.reshape(-1, f.shape[-1]), y.reshape(-1, y.shape[-1])
    return smooth.smece(flat_f, flat_y).reshape(f.shape[:-1])


def ece_binned(f: np.ndarray, y: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins; a confidence of exactly 1 falls in the last bin. All rows in one
    ``bincount`` (each row's bins offset by ``row * bins``). Ours rather than
    ``relplot.metrics.binnedECE`` because it scores a thousand bootstrap resamples in one call;
    a test checks it equals relplot's on single runs."""
    n = f.shape[-1]
    flat_f, flat_y = f.reshape(-1, n), y.reshape(-1, n)
    idx = np.minimum((flat_f * bins).astype(int), bins - 1)
    idx += np.arange(len(flat_f))[:, None] * bins
    gap = np.bincount(idx.ravel(), weights=(flat_f - flat_y).ravel(),
                      minlength=len(flat_f) * bins).reshape(len(flat_f), bins)
    return (np.abs(gap).sum(-1) / n).reshape(f.shape[:-1])


SMECE = Metric("smece", "smECE", smece, "lower",
               "smooth expected calibration error (relplot's definition)")
ECE = Metric("ece", "ECE", ece_binned, "lower", "binned expected calibration error")
BRIER = Metric("brier", "Brier", lambda f, y, bins: ((f - y) ** 2).mean(-1), "lower",
               "mean squared error of confidence against correctness")
