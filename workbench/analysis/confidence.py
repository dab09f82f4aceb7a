"""Per-question answer and confidence from its samples' classes: two estimators.

``classes`` holds each sample's class id in sample order (-1: the sample gave no answer), so a
question with M samples has M entries; class ids follow first appearance.

- ``plurality`` (the paper's): the answer is the most frequent class (ties: the first seen),
  its confidence the class's share of all M samples. This share overshoots the class's
  probability at small M (the largest of several counts is biased upward).
- ``split``: the answer is chosen on the first half of the samples, its confidence is its share
  of the other half, which is an unbiased estimate of the chosen class's probability.

Each returns (answer class or -1, confidence).

>>> plurality(np.array([0, 1, 1, -1]))
(1, 0.5)
>>> split(np.array([0, 0, 1, 0]))
(0, 0.5)
"""

from __future__ import annotations

import numpy as np


def _top(classes: np.ndarray) -> int:
    answered = classes[classes >= 0]
    if not len(answered):
        return -1
    ids, counts = np.unique(answered, return_counts=True)  # ids ascending: argmax takes first
    return int(ids[np.argmax(counts)])


def plurality(classes: np.ndarray) -> tuple[int, float]:
    top = _top(classes)
    return top, (float(np.mean(classes == top)) if top >= 0 else 0.0)


def split(classes: np.ndarray) -> tuple[int, float]:
    half = len(classes) // 2
    top = _top(classes[:half])
    return top, (float(np.mean(classes[half:] == top)) if top >= 0 else 0.0)


ESTIMATORS = {"plurality": plurality, "split": split}


def estimate(classes: list[np.ndarray], verdicts: list[dict], estimator: str = "plurality"
             ) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """(confidence, correct) per question that has a verdict, and which questions those are. A
    question whose answer has no verdict is left out; one with no answer is wrong at 0."""
    fn = ESTIMATORS[estimator]
    f, y, kept = [], [], []
    for cls, verdict in zip(classes, verdicts):
        top, conf = fn(np.asarray(cls))
        ok = False if top < 0 else verdict.get(top)
        kept.append(ok is not None)
        if ok is not None:
            f.append(conf)
            y.append(float(ok))
    return np.array(f), np.array(y), kept
