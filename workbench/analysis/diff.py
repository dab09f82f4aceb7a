"""Pure comparison of two gradings over their shared questions.

Inputs are per-question points (answer key, confidence, correctness); outputs are the metrics of
both sides, their difference with a paired bootstrap interval (the same resampled questions on
both sides), and what changed question by question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import NoSharedQuestions
from .metrics import NAMES, compute
from .resample import resample_indices, z_value


@dataclass(frozen=True)
class Point:
    question_id: str
    question: str
    answer: str | None
    key: str | None
    confidence: float
    correct: bool | None


@dataclass(frozen=True)
class MetricDiff:
    metric: str
    a: float
    b: float
    delta: float  # b - a
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Diff:
    n_shared: int
    n_left_out: int  # shared questions without a verdict on either side
    metrics: list[MetricDiff]
    class_changed: int
    became_correct: int
    became_wrong: int
    confidence_correct: tuple[float, float]  # mean confidence of correct answers, A then B
    confidence_wrong: tuple[float, float]
    largest: list[tuple[Point, Point]]  # by |confidence change|, largest first
    floors: list[dict] = field(default_factory=list)  # per side: metric -> Floor (if computed)
    shortcuts: list = field(default_factory=list)  # per side: shortcut.Shortcuts, shared questions


def paired_points(a: list[Point], b: list[Point]) -> tuple[list[tuple[Point, Point]], int]:
    """Questions judged on both sides, in question order, and how many shared ones were not."""
    by_id = {p.question_id: p for p in b}
    shared = [(p, by_id[p.question_id]) for p in sorted(a, key=lambda p: p.question_id)
              if p.question_id in by_id]
    judged = [(x, y) for x, y in shared if x.correct is not None and y.correct is not None]
    return judged, len(shared) - len(judged)


def diff(a: list[Point], b: list[Point], *, n_bootstrap: int = 1000, seed: int = 0,
         bins: int = 15, top: int = 10, level: float = 0.95, which=None) -> Diff:
    """B - A per metric in ``which`` (default: every one; a measure that only ranks gets
    ``metrics.RANKING``), paired over the questions judged on both sides."""
    pairs, left_out = paired_points(a, b)
    if not pairs:
        raise NoSharedQuestions("the two gradings share no judged questions")
    fa = np.array([x.confidence for x, _ in pairs])
    ya = np.array([float(x.correct) for x, _ in pairs])
    fb = np.array([y.confidence for _, y in pairs])
    yb = np.array([float(y.correct) for _, y in pairs])
    pa, pb = compute(fa, ya, bins=bins), compute(fb, yb, bins=bins)
    i = resample_indices(len(pairs), n_bootstrap, seed)  # the same questions on both sides
    ra, rb = compute(fa[i], ya[i], bins=bins), compute(fb[i], yb[i], bins=bins)
    z = z_value(level)
    rows = []
    for k in which or NAMES:
        d = rb[k] - ra[k]
        d = d[~np.isnan(d)]
        delta = pb[k] - pa[k]
        se = float(np.std(d, ddof=1)) if len(d) > 1 else float("nan")
        rows.append(MetricDiff(k, pa[k], pb[k], delta, delta - z * se, delta + z * se))
    return Diff(
        n_shared=len(pairs), n_left_out=left_out, metrics=rows,
        class_changed=sum(x.key != y.key for x, y in pairs),
        became_correct=sum(not x.correct and y.correct for x, y in pairs),
        became_wrong=sum(x.correct and not y.correct for x, y in pairs),
        confidence_correct=(_mean(fa[ya == 1]), _mean(fb[yb == 1])),
        confidence_wrong=(_mean(fa[ya == 0]), _mean(fb[yb == 0])),
        largest=sorted(pairs, key=lambda p: -abs(p[1].confidence - p[0].confidence))[:top],
    )


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else float("nan")


@dataclass(frozen=True)
class Pooled:
    n_shared: int  # questions judged on the base and on every seed
    metrics: list[MetricDiff]


def pooled(base: list[Point], variants: list[list[Point]], *, n_bootstrap: int = 1000,
           seed: int = 0, bins: int = 15, level: float = 0.95) -> Pooled:
    """Variants tuned with different seeds against one base, on the questions all share: per
    metric, the base's figure, the seeds' mean and their mean difference, with an interval from
    a two-level bootstrap that resamples the seeds and the questions (the same questions for
    every seed, since each is paired with the same base): it holds the seed-to-seed spread as
    well as the questions' sampling error. One seed gives the paired interval of ``diff``."""
    judged = [{p.question_id: p for p in side if p.correct is not None}
              for side in (base, *variants)]
    ids = sorted(set.intersection(*(set(j) for j in judged)))
    if not ids:
        raise NoSharedQuestions("the base and its variants share no judged questions")
    f = np.array([[j[q].confidence for q in ids] for j in judged])
    y = np.array([[float(j[q].correct) for q in ids] for j in judged])
    point = compute(f, y, bins=bins)  # per side
    i = resample_indices(len(ids), n_bootstrap, seed)
    per = compute(f[:, i], y[:, i], bins=bins)  # [side, draw]
    s = len(variants)
    chosen = np.random.default_rng([seed, 1]).integers(0, s, size=(n_bootstrap, s)) + 1
    z = z_value(level)
    rows = []
    for k in NAMES:
        draws = (per[k][chosen, np.arange(n_bootstrap)[:, None]].mean(1) - per[k][0])
        draws = draws[~np.isnan(draws)]
        b = float(np.mean(point[k][1:]))
        delta = b - float(point[k][0])
        se = float(np.std(draws, ddof=1)) if len(draws) > 1 else float("nan")
        rows.append(MetricDiff(k, float(point[k][0]), b, delta, delta - z * se, delta + z * se))
    return Pooled(len(ids), rows)
