"""Per-question answer and confidence from its samples' classes: two estimators.

``classes`` holds each sample's class id in sample order (-1: the sample gave no answer), so a
question with M samples has M entries; class ids follow first appearance.

- ``plurality`` (the paper's): the answer is the most frequent class (ties: the first seen),
  its confidence the class's share of all M samples. This share overshoots the class's
  probability at small M (the largest of several counts is biased upward).
- ``split``: the answer is chosen on the first half of the samples, its confidence is its share
  of the other half, which is an unbiased estimate of the chosen class's probability.

- ``weighted_plurality``: the answer is the class with the most probability mass, its
  confidence that class's share of the mass of the distinct sequences sampled (each sequence's
  exp(log p) under the model, counted once however often it was drawn; sequences that gave no
  answer count in the whole), as semantic entropy's probability-weighted classes are (Kuhn et
  al. 2023). It needs each sample's text and log-probability (``seqs``).

Each takes a question's classes (and, where it needs them, its samples' (text, log p)) and
returns (answer class or -1, confidence).

>>> plurality(np.array([0, 1, 1, -1]))
(1, 0.5)
>>> split(np.array([0, 0, 1, 0]))
(0, 0.5)
>>> weighted_plurality(np.array([0, 0, 1]), [("Paris", -0.1), ("Paris", -0.1), ("Lyon", -0.1)])
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


def plurality(classes: np.ndarray, seqs=None) -> tuple[int, float]:
    top = _top(classes)
    return top, (float(np.mean(classes == top)) if top >= 0 else 0.0)


def split(classes: np.ndarray, seqs=None) -> tuple[int, float]:
    half = len(classes) // 2
    top = _top(classes[:half])
    return top, (float(np.mean(classes[half:] == top)) if top >= 0 else 0.0)


def weighted_plurality(classes: np.ndarray, seqs: list[tuple[str, float]]) -> tuple[int, float]:
    mass: dict[str, tuple[int, float]] = {}  # distinct text -> (class, probability)
    for cls, (text, logprob) in zip(np.asarray(classes).tolist(), seqs):
        mass.setdefault(text, (cls, float(np.exp(logprob))))
    total = sum(p for _, p in mass.values())
    by_class: dict[int, float] = {}
    for cls, p in mass.values():
        if cls >= 0:
            by_class[cls] = by_class.get(cls, 0.0) + p
    if not by_class or total <= 0:
        return -1, 0.0
    top = min(by_class, key=lambda c: (-by_class[c], c))  # ties: the class seen first
    return top, by_class[top] / total


ESTIMATORS = {"plurality": plurality, "split": split, "weighted_plurality": weighted_plurality}
NEEDS_SEQUENCES = {"weighted_plurality"}  # these read each sample's (text, log p)


def estimate(classes: list[np.ndarray], verdicts: list[dict], estimator: str = "plurality",
             seqs: list | None = None) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """(confidence, correct) per question that has a verdict, and which questions those are. A
    question whose answer has no verdict is left out; one with no answer is wrong at 0.
    ``seqs``: per question, its samples' (text, log p), for the estimators that need them."""
    fn = ESTIMATORS[estimator]
    f, y, kept = [], [], []
    for i, (cls, verdict) in enumerate(zip(classes, verdicts)):
        top, conf = fn(np.asarray(cls), seqs[i] if seqs is not None else None)
        ok = False if top < 0 else verdict.get(top)
        kept.append(ok is not None)
        if ok is not None:
            f.append(conf)
            y.append(float(ok))
    return np.array(f), np.array(y), kept
