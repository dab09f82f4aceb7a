"""The embedded demo: one model family, base vs SFT vs RL, offline.

The bundled base model (Gemma 3 270M) is tuned on ``bundled:capitals:train`` with LoRA, with
several seeds each: by SFT on the gold answers (the control) and by on-policy RL on a
correctness reward (the exact judge's verdict) with a KL penalty to the base, as GRPO runs it.
Every variant then answers ``bundled:capitals:test`` (disjoint from the training half) M times
per question, is graded and scored, and each method's seeds are pooled against the base, with
intervals over seeds and questions; beside each figure, the share of answers that only repeat
the question (a collapse onto a shortcut would show there). The tunings are cached in the model
cache like the model's conversion, so a second demo only samples. Sizes are printed, each
calibration figure comes with the floor a calibrated model would score at this N and M, and the
conclusion says only what the intervals support.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .analysis import HEADLINE
from .backends.transformers.models import BUNDLED
from .errors import UsageError
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
    seeds: int = 2  # tuning seeds per method
    rl_learning_rate: float = 5e-4
    rl_kl: float = 0.1  # the KL penalty's weight
    n_bootstrap: int = 500
    seed: int = 0


def run_demo(plan: DemoPlan, *, db_path: Path | None = None, mlflow_uri: str | None = None,
             console: Console | None = None) -> dict:
    # Each of these loads DuckDB or NumPy: only when the demo runs, since every command
    from . import api  # (`--help` too) imports this module for DemoPlan's defaults.
    from .render.tables import metrics_table  # NumPy

    if plan.seeds < 1:
        raise UsageError("seeds", f"must be ≥ 1, got {plan.seeds}")
    console = console or FittingConsole()
    start = time.perf_counter()
    test = TEST if plan.questions is None else f"{TEST}@{plan.questions}"
    console.print(f"[bold]workbench demo[/]: {BUNDLED[PARENT].description} and variants tuned "
                  f"here with LoRA on {TRAIN}, {plan.seeds} seeds each: SFT on gold answers "
                  f"({plan.sft_steps} steps) and RL on a correctness reward with a KL penalty to "
                  f"the base ({plan.rl_steps} steps, KL weight {plan.rl_kl}, learning rate "
                  f"{plan.rl_learning_rate}). Each answers {test} (disjoint from the training "
                  f"half) M = {plan.samples} times per question at temperature 1; "
                  f"{plan.n_bootstrap} bootstrap resamples.")
    log = lambda s: console.print(f"  {s}", markup=False, highlight=False)  # noqa: E731
    where = dict(db_path=db_path, mlflow_uri=mlflow_uri)
    models = {"base": PARENT}
    for method in ("sft", "rl"):
        for s in range(plan.seeds):
            models[f"{method}-s{s}"] = api.tune(_tuning(plan, method, s), log=log, **where).name
    runs, results = _evaluate(models, test, plan, console, where)
    console.print(metrics_table(results, title="Semantic calibration on capitals:test, 95% "
                                               "bootstrap intervals; smECE floor: a calibrated "
                                               "model's mean ≤ 95th percentile here",
                                which=HEADLINE))
    estimates = {kind: metrics for kind, (_, metrics) in zip(models, results)}
    diffs = _print_pooled(models, runs, estimates, plan, console, where)
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
            shown = api.show(res.score_id, db_path=where["db_path"])
            results.append(({"model": model, "run": res.run_id,
                             "echo": f"{shown['score']['echo_share']:.0%}"}, shown["metrics"]))
    return runs, results


def _tuning(plan: DemoPlan, method: str, seed: int) -> TuneRequest:
    name = f"{PARENT}-{method}-s{seed}"
    if method == "sft":
        return TuneRequest(PARENT, "sft", TRAIN, name, steps=plan.sft_steps, seed=seed)
    return TuneRequest(PARENT, "rl", TRAIN, name, steps=plan.rl_steps, seed=seed,
                       learning_rate=plan.rl_learning_rate, kl_coef=plan.rl_kl)


def _print_pooled(models: dict, runs: dict, estimates: dict, plan: DemoPlan, console: Console,
                  where: dict) -> dict:
    """Each method's seeds pooled against the base: a table and a sentence per method, from
    intervals that hold the seeds' spread as well as the questions'."""
    from . import api  # DuckDB and NumPy (see run_demo)
    from .analysis.metrics import METRICS  # NumPy
    from .render.tables import diff_conclusion  # NumPy

    table = Table(title=f"Tuned minus base, pooled over {plan.seeds} seeds (95% bootstrap over "
                        "seeds and questions); echo: answers repeating the question")
    for col in ("variant", *(METRICS[k].label for k in HEADLINE), "echo"):
        table.add_column(col, justify="right")
    conclusions, pooled = [], {}
    for method in ("sft", "rl"):
        kinds = [k for k in models if k.startswith(f"{method}-")]
        both, cuts = api.pooled_diff(runs["base"].grading_id,
                                     [runs[k].grading_id for k in kinds],
                                     n_bootstrap=plan.n_bootstrap, seed=plan.seed,
                                     db_path=where["db_path"])
        pooled[method] = {"metrics": both.metrics, "shortcuts": cuts}
        by = {m.metric: m for m in both.metrics}
        echo = [c.echo_share for c in cuts]
        table.add_row(f"{method} ({len(kinds)} seeds)", *(fmt_delta(by[k]) for k in HEADLINE),
                      f"{echo[0]:.0%} → " + " / ".join(f"{e:.0%}" for e in echo[1:]))
        name = f"{PARENT}-{method} ({len(kinds)} seeds)"
        conclusions.append(diff_conclusion(PARENT, name, both, sides=(
            estimates["base"], _span([estimates[k] for k in kinds]))))
    console.print(table)
    for line in conclusions:
        console.print(line, highlight=False)
    return pooled


def _span(seeds: list[dict]) -> dict:
    """The seeds' estimates as one side of a conclusion: each metric's interval spans every
    seed's, so a variant is called over- or under-confident only when every seed is."""
    return {k: SimpleNamespace(ci_low=min(e[k].ci_low for e in seeds),
                               ci_high=max(e[k].ci_high for e in seeds)) for k in seeds[0]}
