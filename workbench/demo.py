"""The embedded demo: one model family, base vs SFT vs RL, offline.

The bundled base model (Gemma 3 270M) is tuned twice on ``bundled:capitals:train`` with LoRA:
by SFT on the gold answers (the control) and by on-policy RL on a correctness reward (the exact
judge's verdict). The three variants then answer ``bundled:capitals:test`` (disjoint from the
training half) M times per question, are graded and scored, and the tuned ones are diffed against
the base with paired intervals. The tunings are cached in the model cache like the model's
conversion, so a second demo only samples. Sizes are printed, each calibration figure comes with
the floor a calibrated model would score at this N and M, and the conclusion says only what the
paired intervals support.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .analysis import HEADLINE
from .backends.transformers.models import BUNDLED
from .lifecycle.request import GenerateRequest
from .render.console import FittingConsole, fmt_delta
from .tuning.request import TuneRequest

PARENT = "gemma-3-270m"
TRAIN, TEST = "bundled:capitals:train", "bundled:capitals:test"
ABLATION_MS = (1, 2, 5, 10, 20)


@dataclass(frozen=True)
class DemoPlan:
    questions: int | None = None  # of the test half (96); None: all
    samples: int = 20
    rl_steps: int = 8
    sft_steps: int = 8
    n_bootstrap: int = 500
    seed: int = 0


def run_demo(plan: DemoPlan, *, db_path: Path | None = None, mlflow_uri: str | None = None,
             console: Console | None = None) -> dict:
    # Each of these loads DuckDB or NumPy: only when the demo runs, since every command
    from . import api  # (`--help` too) imports this module for DemoPlan's defaults.
    from .render.tables import metrics_table  # NumPy

    console = console or FittingConsole()
    start = time.perf_counter()
    test = TEST if plan.questions is None else f"{TEST}@{plan.questions}"
    console.print(f"[bold]workbench demo[/]: {BUNDLED[PARENT].description} and two variants "
                  f"tuned here with LoRA on {TRAIN}: SFT on gold answers ({plan.sft_steps} "
                  f"steps) and RL on a correctness reward ({plan.rl_steps} steps). Each answers "
                  f"{test} (disjoint from the training half) M = {plan.samples} times per "
                  f"question at temperature 1; {plan.n_bootstrap} bootstrap resamples.")
    log = lambda s: console.print(f"  {s}", markup=False, highlight=False)  # noqa: E731
    where = dict(db_path=db_path, mlflow_uri=mlflow_uri)
    models = {"base": PARENT}
    for method, steps in (("sft", plan.sft_steps), ("rl", plan.rl_steps)):
        models[method] = api.tune(TuneRequest(PARENT, method, TRAIN, steps=steps,
                                              seed=plan.seed), log=log, **where).name
    runs, results = _evaluate(models, test, plan, console, where)
    console.print(metrics_table(results, title="Semantic calibration on capitals:test, 95% "
                                               "bootstrap intervals; smECE floor: a calibrated "
                                               "model's mean ≤ 95th percentile here",
                                which=HEADLINE))
    diffs = _print_diffs(models, runs, results, plan, console, where)
    page = api.report(test, ["model"], n_bootstrap=plan.n_bootstrap, seed=plan.seed, **where)
    console.print(f"Report (one HTML file): {page}")
    console.print(f"Demo wall time: {time.perf_counter() - start:.0f} s. "
                  "Explore: `workbench runs`, `workbench tunings`, `workbench questions RUN`, "
                  "`workbench ui`.")
    return {"results": results, "runs": runs, "diffs": diffs, "models": models}


def _evaluate(models: dict, test: str, plan: DemoPlan, console: Console, where: dict):
    """Each variant sampled, graded, scored and ablated over M (the report draws how many
    samples are enough), under one progress bar."""
    from . import api  # DuckDB and NumPy (see run_demo)

    results, runs = [], {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        for kind, model in models.items():
            task = bar.add_task(f"{model} · concise · capitals:test", total=None)
            req = GenerateRequest(model, test, samples=plan.samples, seed=plan.seed)
            res = api.run_all(req, n_bootstrap=plan.n_bootstrap,
                              progress=lambda d, t, task=task: bar.update(task, completed=d,
                                                                          total=t), **where)
            runs[kind] = res
            api.ablate(res.grading_id, [m for m in ABLATION_MS if m <= plan.samples],
                       seed=plan.seed, **where)
            if not console.is_terminal:  # no live bar in a log: a line per finished variant
                console.print(f"  {model}: sampled, graded, scored and ablated (run "
                              f"{res.run_id})", highlight=False)
            results.append(({"model": model, "run": res.run_id},
                            api.metrics(res.score_id, db_path=where["db_path"])))
    return runs, results


def _print_diffs(models: dict, runs: dict, results: list, plan: DemoPlan, console: Console,
                 where: dict) -> dict:
    """Each tuned variant minus the base on the same questions, as a table and a sentence."""
    from . import api  # DuckDB and NumPy (see run_demo)
    from .analysis.metrics import METRICS  # NumPy
    from .render.tables import diff_conclusion  # NumPy

    table = Table(title="Tuned minus base, same questions (95% paired bootstrap)")
    for col in ("variant", *(METRICS[k].label for k in HEADLINE)):
        table.add_column(col, justify="right")
    conclusions, diffs = [], {}
    for kind in ("sft", "rl"):
        _, _, d = api.diff(runs["base"].grading_id, runs[kind].grading_id,
                           n_bootstrap=plan.n_bootstrap, seed=plan.seed, **where)
        diffs[kind] = d
        by = {m.metric: m for m in d.metrics}
        table.add_row(models[kind], *(fmt_delta(by[k]) for k in HEADLINE))
        sides = (results[0][1], results[list(models).index(kind)][1])
        conclusions.append(diff_conclusion(models["base"], models[kind], d, sides))
    console.print(table)
    for line in conclusions:
        console.print(line, highlight=False)
    return diffs
