"""Formatting of stored figures for people: pure functions from records to text and tables."""

from __future__ import annotations

import csv
import json
import sys

from rich.table import Table

from ..analysis.metrics import METRICS
from ..analysis.resample import Estimate


def fmt_estimate(e: Estimate | None) -> str:
    """'0.123 [0.080, 0.170]'; '—' for a figure that is undefined."""
    if e is None or e.value is None:
        return "—"
    if e.ci_low is None or e.ci_high is None:
        return f"{e.value:.3f}"
    return f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"


def fmt_cell(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def metrics_table(rows: list[tuple[dict, dict[str, Estimate]]], title: str | None = None) -> Table:
    """One row per variant: its label columns, then every metric with its interval."""
    table = Table(title=title, show_lines=False)
    label_cols = list(rows[0][0]) if rows else ["variant"]
    for col in label_cols:
        table.add_column(col)
    for m in METRICS.values():
        table.add_column(m.label, justify="right")
    for labels, est in rows:
        table.add_row(*[str(labels[c]) for c in label_cols],
                      *[fmt_estimate(est.get(m)) for m in METRICS])
    return table


def write_rows(console, cols: list[str], rows: list, fmt: str = "table") -> None:
    """Rows as a rich table, CSV (plain lines, usable in ``$(...)``) or JSON objects."""
    if fmt == "json":
        console.print_json(json.dumps([dict(zip(cols, r)) for r in rows], default=str))
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)
    else:
        table = Table()
        for c in cols:
            table.add_column(c)
        for r in rows:
            table.add_row(*[fmt_cell(v) for v in r])
        console.print(table)
