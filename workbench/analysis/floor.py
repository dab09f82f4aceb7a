"""The noise floor of a calibration figure: what a model calibrated by construction scores with
the same questions, the same M, and each question's observed class distribution.

A calibration error measured on N questions with M samples each is not zero even for a perfectly
calibrated model: the confidence is estimated from M samples (the plurality share overshoots at
small M) and the error from N questions. To say how large a figure must be to mean anything,
each draw of a seeded parametric bootstrap takes each question's observed class distribution
(the no-answer share included) as the model's true one, draws M samples from it, takes the
answer and confidence with the same estimator as the score, and lets the answer be right with
its class's true probability (which is what calibrated means); the same metric code then scores
the draw. The floor is the mean and the 95th percentile of the draws.

>>> dists = [np.array([0.7, 0.2, 0.1])] * 40  # two classes, 10% no answer
>>> f = floor(dists, 10, draws=50, seed=0, which=["ece"])["ece"]
>>> 0 < f.mean < f.p95 < 0.5
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from .metrics import compute

FLOORED = ("smece", "ece")  # the calibration errors that get a floor


@dataclass(frozen=True)
class Floor:
    mean: float
    p95: float
    draws: int


def distribution(classes: np.ndarray) -> np.ndarray:
    """Observed probabilities of each class (ids 0..K-1), then of no answer, from M samples."""
    classes = np.asarray(classes)
    k = int(classes.max()) + 1 if (classes >= 0).any() else 0
    counts = np.bincount(np.where(classes >= 0, classes, k), minlength=k + 1)
    return counts / len(classes)


def _counts(samples: np.ndarray, k: int) -> np.ndarray:
    """Per row of class draws: how many of each class."""
    rows = len(samples)
    flat = (np.arange(rows)[:, None] * k + samples).ravel()
    return np.bincount(flat, minlength=rows * k).reshape(rows, k)


def plurality_class(samples: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of class draws (class ``k - 1`` is no answer): the most frequent answer class,
    ties going to the one drawn first, as the score's estimators break them (class ids follow
    first appearance, and they take the lowest); and whether the row answered at all."""
    counts = _counts(samples, k)[:, :-1]
    first = np.full(counts.shape, samples.shape[1])
    rows, cols = np.nonzero(samples < k - 1)
    np.minimum.at(first, (rows, samples[rows, cols]), cols)
    tied = counts == counts.max(1, keepdims=True)
    top = np.where(tied, first, samples.shape[1] + 1).argmin(1)
    return top, counts.max(1) > 0


# The estimators the floor simulates from class counts alone (weighted_plurality would need each
# class's sequences and their probabilities).
SIMULATED = ("plurality", "split")


def floor(dists: list[np.ndarray], m: int, *, estimator: str = "plurality", draws: int = 200,
          seed: int = 0, bins: int = 15, which=FLOORED) -> dict[str, Floor]:
    """The floor of each metric in ``which``; ``dists``: one ``distribution`` per question."""
    if estimator not in SIMULATED:
        raise UsageError("estimator", f"{estimator!r} has no floor: it is drawn for "
                                      f"{', '.join(SIMULATED)} only")
    rng = np.random.default_rng(seed)
    conf = np.zeros((draws, len(dists)))
    right = np.zeros((draws, len(dists)))
    for q, p in enumerate(dists):
        if len(p) < 2:  # no sample of this question gave an answer: none ever does
            continue  # (confidence 0, wrong), as the scores count it
        samples = rng.choice(len(p), size=(draws, m), p=p)  # the last class: no answer
        luck = rng.random(draws)
        choose, measure = ((samples, samples) if estimator == "plurality" else
                           (samples[:, :m // 2], samples[:, m // 2:]))
        top, answered = plurality_class(choose, len(p))
        conf[:, q] = np.where(answered, (measure == top[:, None]).mean(1), 0.0)
        right[:, q] = answered & (luck < p[top])
    values = compute(conf, right, bins=bins, which=list(which))
    return {k: Floor(float(np.mean(v)), float(np.quantile(v, 0.95)), draws)
            for k, v in values.items()}
