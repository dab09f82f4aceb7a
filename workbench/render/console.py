"""Terminal output that starts fast (rich only): listings as a table, CSV or JSON, and tables
that fit the terminal without cutting a value."""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..errors import UsageError

if TYPE_CHECKING:
    from ..analysis.resample import Estimate


def fmt_estimate(e: Estimate | None) -> str:
    """'0.123 [0.080, 0.170]'; '—' for a figure that is undefined."""
    if e is None or e.value is None:
        return "—"
    if e.ci_low is None or e.ci_high is None:
        return f"{e.value:.3f}"
    return f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"


def fmt_delta(m) -> str:
    """A paired difference (``analysis.diff.MetricDiff``): '+0.120 [+0.050, +0.190]'."""
    return f"{m.delta:+.3f} [{m.ci_low:+.3f}, {m.ci_high:+.3f}]"


def fmt_floor(e: Estimate | None) -> str:
    """'0.090 ≤0.130': a calibrated model's mean score here and its 95th percentile."""
    if e is None or e.floor_mean is None:
        return "—"
    return f"{e.floor_mean:.3f} ≤{e.floor_p95:.3f}"


def fmt_side_floors(d, metric: str) -> tuple[str, str]:
    """Each side's floor of one metric of a diff (``analysis.diff.Diff``): '0.090 ≤0.130', or
    '' where it has none (a metric that is not a calibration error, or floors not drawn)."""
    floors = d.floors or [{}, {}]
    return tuple(f"{f[metric].mean:.3f} ≤{f[metric].p95:.3f}" if metric in f else ""
                 for f in floors)


def fmt_cell(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write_rows(console, cols: list[str], rows: list, fmt: str = "table") -> None:
    """Rows as a rich table, CSV (plain lines, usable in ``$(...)``) or JSON objects (numbers
    as numbers)."""
    if fmt not in ("table", "csv", "json"):
        raise UsageError("format", f"{fmt!r} is not one of table, csv, json")
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


SHORT = 24  # a value this long or shorter (an id, a number, an interval) is never wrapped


def _plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def fit(console: Console, table: Table):
    """``table`` as it fits ``console``'s width without cutting a value: whole, when every
    header and short value (ids, numbers, intervals) stays on one line and only long text wraps
    at its words; else transposed (a row per column, a column per row), when that fits; else a
    vertical layout, one block per row with a line per column."""
    cells = [[_plain(c) for c in col.cells] for col in table.columns]
    headers = [_plain(col.header) for col in table.columns]
    widths, all_short = [], True
    for col, header, values in zip(table.columns, headers, cells):
        longest = max((len(v) for v in values), default=0)
        all_short &= longest <= SHORT
        if longest <= SHORT:
            col.no_wrap = True
        words = max((len(w) for v in values for w in v.split()), default=0)
        widths.append(max(len(header), longest if col.no_wrap else words))
    if _width(widths) <= console.width:
        return table
    rows = list(zip(*cells))
    if all_short and _width(
            [max(map(len, headers))] + [max(map(len, r)) for r in rows]) <= console.width:
        # The first column names the rows when its values are distinct (a model, a run id).
        named = len({r[0] for r in rows}) == len(rows)
        flipped = Table(title=table.title)
        flipped.add_column(Text(headers[0] if named else ""), style="dim", no_wrap=True,
                           justify="right")
        for i, r in enumerate(rows):
            flipped.add_column(Text(r[0] if named else str(i + 1)), no_wrap=True,
                               justify="right")
        for j, h in enumerate(headers[1:] if named else headers, 1 if named else 0):
            flipped.add_row(Text(h), *[Text(r[j]) for r in rows])
        return flipped
    blocks = [Text(_plain(table.title), style="bold")] if table.title else []
    for i, row in enumerate(rows, 1):
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True, justify="right")
        grid.add_column(overflow="fold")
        for h, v in zip(headers, row):
            grid.add_row(Text(h), Text(v))
        blocks += [Text(f"── {i} of {len(rows)} ──", style="dim"), grid]
    return Group(*blocks)


def _width(columns: list[int]) -> int:
    """A boxed table's width: each column adds its padding and a border, plus the left one."""
    return sum(columns) + 3 * len(columns) + 1


class FittingConsole(Console):
    """A console whose tables fall back to the vertical layout (``fit``) when too wide, and
    whose table cells are text, never markup: a value such as "[/x]" or "[red]" (a store path, a
    SQL result, a model's "[/INST]") is printed as it is."""

    def print(self, *objects, **kwargs):
        super().print(*(fit(self, literal(o)) if isinstance(o, Table) else o for o in objects),
                      **kwargs)


def literal(table: Table) -> Table:
    """``table`` with every string cell, header and title as plain ``Text`` (no markup)."""
    for column in table.columns:
        column._cells = [Text(c) if isinstance(c, str) else c for c in column._cells]
        if isinstance(column.header, str):
            column.header = Text(column.header)
    if isinstance(table.title, str):
        table.title = Text(table.title)
    return table
