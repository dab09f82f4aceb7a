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


def fmt_floor(e: Estimate | None) -> str:
    """'0.090 ≤0.130': a calibrated model's mean score here and its 95th percentile."""
    if e is None or e.floor_mean is None:
        return "—"
    return f"{e.floor_mean:.3f} ≤{e.floor_p95:.3f}"


def floor_notes(est: dict[str, Estimate]) -> list[str]:
    """One line per calibration error: the figure beside what a calibrated model scores."""
    return [f"{METRICS[k].label} {e.value:.3f}; a calibrated model here scores "
            f"{e.floor_mean:.3f} [≤ {e.floor_p95:.3f}] (mean [95th percentile])"
            for k, e in est.items() if e.floor_mean is not None and e.value is not None]


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
        if m.name == "smece":
            table.add_column("smECE floor", justify="right")
    for labels, est in rows:
        cells = []
        for m in METRICS:
            cells.append(fmt_estimate(est.get(m)))
            if m == "smece":
                cells.append(fmt_floor(est.get(m)))
        table.add_row(*[str(labels[c]) for c in label_cols], *cells)
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
