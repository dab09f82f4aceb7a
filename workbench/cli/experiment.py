"""The ``experiment`` group: run a grid of variants written in a TOML file, or show where it
stands (``workbench/experiments``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from ..errors import UsageError
from ..render.console import write_rows
from .app import experiment_app
from .common import DbOpt, Format, FormatOpt, LiveProgress, MlflowOpt, api, err, friendly, out

FileArg = typer.Argument(..., help="the experiment file (TOML; see README: Experiments)")
ThroughputOpt = typer.Option(2500.0, "--throughput", help="generated tokens per second the "
                             "cost estimate assumes (one GPU)")


def _log(message: str) -> None:
    err.print(message, soft_wrap=True, markup=False, highlight=False)


@experiment_app.command("run")
@friendly
def experiment_run(file: Path = FileArg, db: Optional[Path] = DbOpt,
                   mlflow_uri: Optional[str] = MlflowOpt,
                   throughput: float = ThroughputOpt):
    """Sample, grade and score every cell of the grid that lacks it; run again after a crash,
    or after adding a model, a style or a judge, it does only what is missing."""
    exp = api.load_experiment(file)
    api.experiment_check(exp, db, migrate=True)  # before the cost, which reads the store
    _print_cost(api.experiment_cost(exp, db), throughput)
    with LiveProgress() as progress:  # the cell being sampled: a bar, or a line per chunk in a log
        states = api.experiment_run(exp, db_path=db, mlflow_uri=mlflow_uri, log=_log,
                                    progress=progress)
    _print_grid(exp, states, Format.table)


@experiment_app.command("status")
@friendly
def experiment_status(file: Path = FileArg, db: Optional[Path] = DbOpt,
                      throughput: float = ThroughputOpt, fmt: Format = FormatOpt):
    """The grid as the store has it (done, running, failed, missing) and what is left to run,
    without loading a model."""
    exp = api.load_experiment(file)
    _print_grid(exp, api.experiment_status(exp, db), fmt)
    if fmt == Format.table:
        _print_cost(api.experiment_cost(exp, db), throughput)


def _print_grid(exp, states, fmt: Format) -> None:
    cols = ["model", "style", "dataset", "status", "samples", "run",
            *[f"score {j}" for j in exp.judges],
            *[f"ablation {j}" for j in exp.judges if exp.ablation]]
    rows = [[s.cell.model, s.cell.style, s.cell.dataset, s.status,
             f"{s.stored}/{s.planned}" if s.planned else "", s.run_id or "",
             *[s.scores[j] or ("graded" if s.gradings[j] else "") for j in exp.judges],
             *[s.ablations[j] or "" for j in exp.judges if exp.ablation]]
            for s in states]
    if fmt == Format.table:
        out.print(f"experiment {escape(exp.name)} ({exp.path}, {exp.sha256[:12]}): "
                  f"M = {exp.samples}, judges {', '.join(exp.judges)}"
                  + (f", ablation m = {', '.join(map(str, exp.ablation))}" if exp.ablation
                     else ""), highlight=False, soft_wrap=True)
        for name, tuning_id in api.experiment_tunings(exp).items():
            out.print(f"  tuning {name}: {tuning_id or 'to tune (first)'}", markup=False,
                      highlight=False, soft_wrap=True)
    write_rows(out, cols, rows, fmt.value)


def _print_cost(c, throughput: float) -> None:
    if c.samples is None:
        err.print(f"{c.cells_left} of {c.cells} cells to run; sizes unknown here for "
                  f"{', '.join(c.unknown)} (give each a size to estimate the cost)",
                  highlight=False, markup=False)
        return
    if not throughput > 0:
        raise UsageError("throughput", f"must be > 0 tokens/s, got {throughput}")
    hours = c.max_tokens_left / throughput / 3600
    took = f"{hours:,.1f} GPU-hours" if hours >= 1 else f"{hours * 60:.1f} GPU-minutes"
    tuning = f"{c.tunings_left} variant(s) to tune first; " if c.tunings_left else ""
    err.print(f"{tuning}{c.cells_left} of {c.cells} cells to run: {c.samples_left:,} of "
              f"{c.samples:,} "
              f"samples left, at most {c.max_tokens_left:,} generated tokens (each at its "
              f"token budget): ≤ {took} at {throughput:,.0f} tokens/s (--throughput)",
              highlight=False, markup=False)
