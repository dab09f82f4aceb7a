"""Per-question answer and confidence from its samples' classes: a registry of measures.

``classes`` holds each sample's class id in sample order (-1: the sample gave no answer), so a
question with M samples has M entries; class ids follow first appearance. ``seqs`` (for the
measures that read them) holds each sample's (text, log p, tokens): its sequence log-probability
under the model and its token count.

Every measure answers with the plurality class (ties: the first seen) except
``weighted_plurality`` (the class with the most probability mass) and ``split`` (chosen on half
the samples). They differ in the confidence attached to that answer. A question with no answer
is wrong at confidence 0 under every measure.

Probabilities of being right (calibration metrics apply):

- ``plurality`` (the paper's): the answer's share of all M samples. It overshoots the class's
  probability at small M (the largest of several counts is biased upward).
- ``split``: the answer is chosen on the first half of the samples, its confidence is its share
  of the other half, an unbiased estimate of the chosen class's probability.
- ``weighted_plurality``: the answer class's share of the probability mass of the distinct
  sequences sampled (each sequence's exp(log p), counted once however often it was drawn;
  sequences that gave no answer count in the whole), as semantic entropy's probability-weighted
  classes are (Kuhn et al. 2023).

Scores that rank (higher: more confident; only AUROC, AURAC and accuracy apply), each mapped
into [0, 1] by a fixed monotone map, so its ranking is the published quantity's:

- ``semantic_entropy``: discrete semantic entropy (Farquhar et al. 2024, Nature): the entropy H
  of the class frequencies among the M samples (non-answers one class), as 1 - H / ln M.
- ``weighted_semantic_entropy``: semantic entropy with class probabilities from the model
  (Kuhn et al. 2023, as Farquhar et al.'s code computes it): each sample's length-normalised
  log-likelihood (log p / tokens), summed per class in probability (log-sum-exp), normalised over
  the classes, H = -sum p ln p; as 1 - H / ln M.
- ``n_classes``: the number k of distinct classes among the M samples (non-answers one), as
  1 - (k - 1) / (M - 1): 1 when all agree, 0 when all differ.
- ``answer_logprob``: the mean per-token log-probability of the answer class's samples, as
  exp(mean): their geometric-mean token probability.

Stated by the model when asked about its plurality answer, one more call per question
(``workbench elicit``; probabilities of being right; a question it was not asked, or whose
reply states none, is left out): ``p_true`` (Kadavath et al. 2022) and ``verbalized``.

>>> plurality(np.array([0, 1, 1, -1]))
(1, 0.5)
>>> split(np.array([0, 0, 1, 0]))
(0, 0.5)
>>> weighted_plurality(np.array([0, 0, 1]), [("Paris", -0.1, 1), ("Paris", -0.1, 1),
...                                          ("Lyon", -0.1, 1)])
(0, 0.5)
>>> n_classes(np.array([0, 0, 1, -1, 0]))  # 3 classes among 5 samples: 1 - 2/4
(0, 0.5)
>>> round(float(semantic_entropy(np.array([0, 0, 1, 1]))[1]), 6)  # H = ln 2 of ln 4
0.5
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

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


def weighted_plurality(classes: np.ndarray, seqs: list[tuple]) -> tuple[int, float]:
    mass: dict[str, tuple[int, float]] = {}  # distinct text -> (class, probability)
    for cls, (text, logprob, *_) in zip(np.asarray(classes).tolist(), seqs):
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


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _scaled_entropy(h: float, m: int) -> float:
    return max(0.0, 1.0 - h / float(np.log(m))) if m > 1 else 1.0


def semantic_entropy(classes: np.ndarray, seqs=None) -> tuple[int, float]:
    top = _top(classes)
    if top < 0:
        return -1, 0.0
    _, counts = np.unique(classes, return_counts=True)  # -1 (no answer): one class
    return top, _scaled_entropy(_entropy(counts / counts.sum()), len(classes))


def _per_token(seqs: list[tuple]) -> np.ndarray:
    """Each sample's log p per token (length-normalised; an empty sample: its log p)."""
    return np.array([lp / n if n else lp for _, lp, n in seqs], float)


def weighted_semantic_entropy(classes: np.ndarray, seqs: list[tuple]) -> tuple[int, float]:
    top = _top(classes)
    if top < 0:
        return -1, 0.0
    classes = np.asarray(classes)
    loglik = _per_token(seqs)
    ids = np.unique(classes)
    per_class = np.array([np.logaddexp.reduce(loglik[classes == c]) for c in ids])
    logp = per_class - np.logaddexp.reduce(per_class)
    return top, _scaled_entropy(_entropy(np.exp(logp)), len(classes))


def n_classes(classes: np.ndarray, seqs=None) -> tuple[int, float]:
    top = _top(classes)
    if top < 0:
        return -1, 0.0
    m = len(classes)
    return top, (1.0 - (len(np.unique(classes)) - 1) / (m - 1) if m > 1 else 1.0)


def answer_logprob(classes: np.ndarray, seqs: list[tuple]) -> tuple[int, float]:
    top = _top(classes)
    if top < 0:
        return -1, 0.0
    return top, float(np.exp(_per_token(seqs)[np.asarray(classes) == top].mean()))


def stated(classes: np.ndarray, value) -> tuple[int, float]:
    """A confidence the model stated about its plurality answer (``stages/elicit.py``); NaN
    when it stated none (the question is left out, as one without a verdict is)."""
    top = _top(classes)
    if top < 0:
        return -1, 0.0
    return top, float("nan") if value is None else float(value)


@dataclass(frozen=True)
class Measure:
    name: str
    fn: Callable  # (classes, seqs) -> (answer class or -1, confidence in [0, 1])
    probability: bool  # a probability of being right: calibration metrics apply
    sequences: bool = False  # reads each sample's (text, log p, tokens)
    about: str = ""
    elicited: bool = False  # reads what the model stated when asked (the ``elicited`` table)


MEASURES = {m.name: m for m in [
    Measure("plurality", plurality, True, about="the answer's share of M (the paper's)"),
    Measure("split", split, True, about="chosen on half the samples, its share of the other"),
    Measure("weighted_plurality", weighted_plurality, True, True,
            "the answer's share of the sampled sequences' probability mass"),
    Measure("semantic_entropy", semantic_entropy, False,
            about="1 - H/ln M, H the entropy of the class frequencies (Farquhar et al. 2024)"),
    Measure("weighted_semantic_entropy", weighted_semantic_entropy, False, True,
            "1 - H/ln M, H over classes weighted by length-normalised p (Kuhn et al. 2023)"),
    Measure("n_classes", n_classes, False, about="1 - (classes - 1)/(M - 1)"),
    Measure("answer_logprob", answer_logprob, False, True,
            "geometric-mean token probability of the answer class's samples"),
    Measure("p_true", stated, True, about="P(yes) when the model is asked whether its answer "
            "is correct (Kadavath et al. 2022; `workbench elicit`)", elicited=True),
    Measure("verbalized", stated, True, about="the 0-100 confidence the model states for its "
            "answer, / 100 (`workbench elicit`)", elicited=True),
]}
ELICITED = {name for name, m in MEASURES.items() if m.elicited}
ESTIMATORS = {name: m.fn for name, m in MEASURES.items()}
NEEDS_SEQUENCES = {name for name, m in MEASURES.items() if m.sequences}


def _right(top: int, conf: float, verdict: dict) -> bool | None:
    """Whether a measure's answer is right: no answer is wrong, a confidence the measure could
    not give (NaN: nothing stated) or an answer without a verdict is unknown (left out)."""
    return None if np.isnan(conf) else False if top < 0 else verdict.get(top)


def estimate(classes: list[np.ndarray], verdicts: list[dict], estimator: str = "plurality",
             seqs: list | None = None) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """(confidence, correct) per question that has a verdict, and which questions those are. A
    question whose answer has no verdict is left out; one with no answer is wrong at 0.
    ``seqs``: per question, its samples' (text, log p, tokens), for the measures that read them."""
    fn = ESTIMATORS[estimator]
    f, y, kept = [], [], []
    for i, (cls, verdict) in enumerate(zip(classes, verdicts)):
        top, conf = fn(np.asarray(cls), seqs[i] if seqs is not None else None)
        ok = _right(top, conf, verdict)
        kept.append(ok is not None)
        if ok is not None:
            f.append(conf)
            y.append(float(ok))
    return np.array(f), np.array(y), kept


def per_question(estimator: str, table: list[dict], classes: dict, verdicts: dict,
                 seqs: dict | None = None):
    """(confidence, correct) of a grading's judged questions under ``estimator``, their
    samples' classes, and their ids. ``table``: the grading's rows of the
    ``question_confidence`` view; ``classes``/``verdicts``: per question, its samples' classes
    and its verdict per class; ``seqs``: per question, what the measure reads beside the classes
    (its samples' (text, log p, tokens), or the confidence the model stated). Plurality takes
    the view's figures, so a score is reproducible in SQL."""
    if estimator == "plurality":
        kept = [r for r in table if r["correct"] is not None]
        f = np.array([r["confidence"] for r in kept], float)
        y = np.array([r["correct"] for r in kept], float)
        return (f, y, [np.array(classes[r["question_id"]]) for r in kept],
                [r["question_id"] for r in kept])
    asked = [r["question_id"] for r in table if r["question_id"] in classes]
    cls = [np.array(classes[q]) for q in asked]
    f, y, kept = estimate(cls, [verdicts.get(q, {}) for q in asked], estimator,
                          [seqs.get(q) for q in asked] if seqs is not None else None)
    return (f, y, [c for c, k in zip(cls, kept) if k],
            [q for q, k in zip(asked, kept) if k])


def restate(points: list, estimator: str, classes: dict, verdicts: dict,
            inputs: dict | None = None) -> list:
    """``points`` (``analysis.diff.Point``, the plurality answer's) under another measure: its
    answer's confidence, and whether that answer is right (``split`` and
    ``weighted_plurality`` may answer otherwise); a question the measure cannot say anything
    for (nothing stated) has no verdict, so a diff leaves it out. ``inputs``: per question, what
    the measure reads (sequences, or the stated value)."""
    fn, out = ESTIMATORS[estimator], []
    for p in points:
        if p.question_id not in classes:
            out.append(replace(p, correct=None))
            continue
        top, conf = fn(np.asarray(classes[p.question_id]),
                       None if inputs is None else inputs.get(p.question_id))
        ok = _right(top, conf, verdicts.get(p.question_id, {}))
        out.append(replace(p, confidence=float(conf), correct=ok))
    return out
