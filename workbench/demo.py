"""The demo's conclusion: an experiment of a base model and variants tuned from it (the shipped
``experiments/demo.toml``: Gemma 3 270M base, SFT and KL-anchored RL with two seeds each, on
capitals), run by the experiment runner, then read back as a table per variant and each tuning
method's seeds pooled against the base, with intervals over seeds and questions and the share of
answers that only repeat the question (a collapse onto a shortcut would show there).

Everything that decides the figures is in the file; this module only runs what is missing
(``experiments.grid.run``: tunings cached in the model cache, runs in the store, so a second
demo samples nothing) and prints what the intervals support.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console
from rich.table import Table

from .analysis import HEADLINE
from .errors import ExperimentError
from .render.console import FittingConsole, fmt_delta

DEMO_FILE = Path("experiments") / "demo.toml"


def run_demo(path: Path = DEMO_FILE, *, db_path: Path | None = None,
             mlflow_uri: str | None = None, console: Console | None = None,
             progress=None) -> dict:
    """Run what is missing of a demo-shaped experiment file, then print its conclusion.
    ``progress``: as ``api.experiment_run``'s."""
    # DuckDB and NumPy load only when the demo runs (every command imports this module).
    from . import api

    console = console or FittingConsole()
    start = time.perf_counter()
    exp = api.load_experiment(path)
    parent = _shape(exp)
    console.print(f"[bold]workbench demo[/] ({exp.path}): {exp.name}: "
                  f"{_describe(exp, parent)}", soft_wrap=True)
    # experiment_run checks the file against the store before anything runs
    states = api.experiment_run(exp, db_path=db_path, mlflow_uri=mlflow_uri,
                                log=lambda s: console.print(f"  {s}", markup=False,
                                                            highlight=False, soft_wrap=True),
                                progress=progress)
    out = conclude(exp, states, parent, console=console, db_path=db_path,
                   mlflow_uri=mlflow_uri)
    console.print(f"Demo wall time: {time.perf_counter() - start:.0f} s. Explore: "
                  "`workbench runs`, `workbench tunings`, `workbench questions RUN`, "
                  "`workbench ui`.", soft_wrap=True)
    return out


def _shape(exp) -> str:
    """The parent every tuning starts from; refuses a file the demo cannot conclude on."""
    parents = {t.parent for t in exp.tunings}
    models = {c.model for c in exp.cells}
    if len(parents) != 1 or next(iter(parents)) not in models:
        raise ExperimentError(f"{exp.path}: [[tunings]]: the demo compares variants tuned from "
                              "one parent with that parent: give every tuning the same parent "
                              "and list it in [[models]]")
    if len({(c.dataset, c.style) for c in exp.cells}) != 1:
        raise ExperimentError(f"{exp.path}: [[datasets]]: the demo asks one dataset in one "
                              "style (a grid of several: `workbench experiment run`, then "
                              "`workbench compare --experiment`)")
    return next(iter(parents))


def _describe(exp, parent: str) -> str:
    cell = exp.cells[0]
    tuned = "; ".join(f"{t.variant_name} ({t.method}, {t.steps} steps, seed {t.seed}, learning "
                      f"rate {t.learning_rate:g}" + (f", KL weight {t.kl_coef:g}"
                                                     if t.method == "rl" else "") + ")"
                      for t in exp.tunings)
    return (f"{exp.description or parent}. {parent} and its variants tuned with LoRA: {tuned}. "
            f"Each answers {cell.dataset} ({cell.style}) M = {exp.samples} times per question "
            f"at temperature {cell.request.temperature:g}, graded by {exp.judges[0]}; "
            f"{exp.bootstrap} bootstrap resamples.")


def conclude(exp, states, parent: str, *, console: Console, db_path: Path | None = None,
             mlflow_uri: str | None = None) -> dict:
    """Each variant's figures, each method's seeds pooled against the parent, and the report."""
    from . import api  # DuckDB and NumPy (see run_demo)
    from .render.tables import metrics_table  # NumPy

    judge = exp.judges[0]
    by_model = {s.cell.model: s for s in states}
    results = []
    for model, s in by_model.items():
        shown = api.show(s.scores[judge], db_path=db_path)
        results.append(({"model": model, "run": s.run_id,
                         "echo": f"{shown['score']['echo_share']:.0%}"}, shown["metrics"]))
    dataset = api.show(states[0].run_id, db_path=db_path)["dataset"]  # as stored
    console.print(metrics_table(results, title=f"Semantic calibration on {dataset}, 95% "
                                               "bootstrap intervals; smECE floor: a calibrated "
                                               "model's mean ≤ 95th percentile here",
                                which=HEADLINE))
    estimates = {r["model"]: metrics for r, metrics in results}
    methods: dict[str, list[str]] = {}
    for t in exp.tunings:
        methods.setdefault(t.method, []).append(t.variant_name)
    gradings = {m: s.gradings[judge] for m, s in by_model.items()}
    diffs = _print_pooled(parent, methods, gradings, estimates, exp, console, db_path)
    page = api.report(dataset, ["model"], judge=judge, n_bootstrap=exp.bootstrap, seed=exp.seed,
                      db_path=db_path, mlflow_uri=mlflow_uri, experiment=exp.name)
    console.print(f"Report (one HTML file): {page}", soft_wrap=True)
    return {"results": results, "diffs": diffs, "runs": {m: s.run_id for m, s in
                                                          by_model.items()}}


def _print_pooled(parent: str, methods: dict, gradings: dict, estimates: dict, exp,
                  console: Console, db_path: Path | None) -> dict:
    """Each method's seeds pooled against the parent: a table and a sentence per method, from
    intervals that hold the seeds' spread as well as the questions'."""
    from . import api  # DuckDB and NumPy (see run_demo)
    from .analysis.metrics import METRICS  # NumPy
    from .render.tables import diff_conclusion  # NumPy

    table = Table(title="Tuned minus base, each method's seeds pooled (95% bootstrap over "
                        "seeds and questions); echo: answers repeating the question")
    for col in ("variant", *(METRICS[k].label for k in HEADLINE), "echo"):
        table.add_column(col, justify="right")
    conclusions, pooled = [], {}
    for method, names in methods.items():
        both, cuts = api.pooled_diff(gradings[parent], [gradings[n] for n in names],
                                     n_bootstrap=exp.bootstrap, seed=exp.seed, db_path=db_path)
        pooled[method] = {"metrics": both.metrics, "shortcuts": cuts}
        by = {m.metric: m for m in both.metrics}
        echo = [c.echo_share for c in cuts]
        table.add_row(f"{method} ({len(names)} seeds)", *(fmt_delta(by[k]) for k in HEADLINE),
                      f"{echo[0]:.0%} → " + " / ".join(f"{e:.0%}" for e in echo[1:]))
        name = f"{parent}-{method} ({len(names)} seeds)"
        conclusions.append(diff_conclusion(parent, name, both, sides=(
            estimates[parent], _span([estimates[n] for n in names]))))
    console.print(table)
    for line in conclusions:
        console.print(line, highlight=False)
    return pooled


def _span(seeds: list[dict]) -> dict:
    """The seeds' estimates as one side of a conclusion: each metric's interval spans every
    seed's, so a variant is called over- or under-confident only when every seed is."""
    def edge(k, side, pick):  # None (no interval, e.g. a constant metric) where any seed has none
        values = [getattr(e[k], side) for e in seeds]
        return None if None in values else pick(values)

    return {k: SimpleNamespace(ci_low=edge(k, "ci_low", min), ci_high=edge(k, "ci_high", max))
            for k in seeds[0]}
