"""Formatting of stored figures for people: pure functions from records to text and tables."""

from __future__ import annotations

from rich.table import Table

from ..analysis import HEADLINE
from ..analysis.metrics import METRICS
from ..analysis.resample import Estimate
from .console import fmt_delta, fmt_estimate, fmt_floor


def floor_notes(est: dict[str, Estimate]) -> list[str]:
    """One line per calibration error: the figure beside what a calibrated model scores."""
    return [f"{METRICS[k].label} {e.value:.3f}; a calibrated model here scores "
            f"{e.floor_mean:.3f} [≤ {e.floor_p95:.3f}] (mean [95th percentile])"
            for k, e in est.items() if e.floor_mean is not None and e.value is not None]


def metrics_table(rows: list[tuple[dict, dict[str, Estimate]]], title: str | None = None,
                  which: tuple[str, ...] | None = None) -> Table:
    """One row per variant: its label columns, then each metric (``which``; default all) with
    its interval."""
    which = which or tuple(METRICS)
    table = Table(title=title, show_lines=False)
    label_cols = list(rows[0][0]) if rows else ["variant"]
    for col in label_cols:
        table.add_column(col, no_wrap=True)
    for m in which:
        table.add_column(METRICS[m].label, justify="right")
        if m == "smece":
            table.add_column("smECE floor", justify="right")
    for labels, est in rows:
        cells = []
        for m in which:
            cells.append(fmt_estimate(est.get(m)))
            if m == "smece":
                cells.append(fmt_floor(est.get(m)))
        table.add_row(*[str(labels[c]) for c in label_cols], *cells)
    return table


def _direction(m) -> str:
    """How a paired difference reads: its sign when its interval excludes 0."""
    span = fmt_delta(m)
    if m.ci_low > 0:
        return f"rises by {span}"
    if m.ci_high < 0:
        return f"falls by {span}"
    return f"does not change distinguishably from 0 ({span})"


def diff_conclusion(a: str, b: str, d, sides: tuple[dict, dict] | None = None) -> str:
    """What the paired intervals of a diff (``analysis.diff.Diff``, B − A) support, in words;
    it says so when they support nothing. ``sides``: each side's own estimates (metric ->
    ``Estimate``), to say whether each is over- or under-confident beyond its interval.

    >>> from types import SimpleNamespace as M
    >>> d = M(n_shared=50, metrics=[M(metric="accuracy", a=.7, b=.7, delta=0, ci_low=-.1,
    ...       ci_high=.1), M(metric="overconfidence", a=-.1, b=.2, delta=.3, ci_low=.2,
    ...       ci_high=.4)])
    >>> print(diff_conclusion("base", "rl", d))  # doctest: +NORMALIZE_WHITESPACE
    rl vs base on 50 shared questions: accuracy does not change distinguishably from 0 (+0.000
    [-0.100, +0.100]); conf − acc rises by +0.300 [+0.200, +0.400]. Confidence minus accuracy
    goes from -0.100 to +0.200: base is under-confident, rl over-confident.
    """
    by = {m.metric: m for m in d.metrics}
    keys = [k for k in HEADLINE if k in by]
    text = (f"{b} vs {a} on {d.n_shared} shared questions: "
            + "; ".join(f"{METRICS[k].label} {_direction(by[k])}" for k in keys) + ".")
    over, cal = by.get("overconfidence"), by.get("smece")
    said = False
    if over and (over.ci_low > 0 or over.ci_high < 0):
        def lean(x: float, side: int) -> str:
            est = sides[side].get("overconfidence") if sides else None
            if est is not None and est.ci_low is not None and est.ci_low <= 0 <= est.ci_high:
                return "level within its interval"
            return "over-confident" if x > 0 else "under-confident"
        text += (f" Confidence minus accuracy goes from {over.a:+.3f} to {over.b:+.3f}: "
                 f"{a} is {lean(over.a, 0)}, {b} {lean(over.b, 1)}.")
        said = True
    if cal and cal.ci_low > 0:
        text += f" {b}'s calibration error is higher than {a}'s."
        said = True
    elif cal and cal.ci_high < 0:
        text += f" {b} is better calibrated than {a}."
        said = True
    if not said and all(by[k].ci_low <= 0 <= by[k].ci_high for k in keys):
        text += " No effect is visible at this size."
    return text


def shortcut_line(score: dict) -> str:
    """A score's shortcut figures in one sentence (``analysis.shortcut``)."""
    return (f"shortcuts: {score['echo_share']:.1%} of answers repeat the question's own words; "
            f"the commonest answer, {score['top_answer']!r}, is given for "
            f"{score['top_answer_share']:.1%} of answered questions")
