"""Formatting of stored figures for people: pure functions from records to strings and tables."""

from __future__ import annotations

from rich.table import Table

from .metrics import METRICS, Estimate

LABELS = {"accuracy": "accuracy", "confidence": "mean conf", "smece": "smECE", "ece": "ECE",
          "brier": "Brier", "auroc": "AUROC"}


def fmt_estimate(e: Estimate | None) -> str:
    """'0.123 [0.080, 0.170]'; '—' for a figure that is undefined."""
    if e is None or e.value is None:
        return "—"
    if e.ci_low is None or e.ci_high is None:
        return f"{e.value:.3f}"
    return f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"


def metrics_table(rows: list[tuple[dict, dict[str, Estimate]]], title: str | None = None) -> Table:
    """One row per variant: its label columns, then every metric with its interval."""
    table = Table(title=title, show_lines=False)
    label_cols = list(rows[0][0]) if rows else ["variant"]
    for col in label_cols:
        table.add_column(col)
    for m in METRICS:
        table.add_column(LABELS[m], justify="right")
    for labels, est in rows:
        table.add_row(*[str(labels[c]) for c in label_cols],
                      *[fmt_estimate(est.get(m)) for m in METRICS])
    return table
