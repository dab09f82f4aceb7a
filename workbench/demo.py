"""The embedded demo: base vs instruct, concise vs CoT, on both bundled datasets, offline.

Sizes are chosen to finish in minutes on 2 CPU cores; they are printed, and the intervals in the
table show what they cost in precision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import api
from .backends.local.models import BUNDLED
from .report.tables import metrics_table
from .stages.generate import GenerateRequest

DATASETS = ("bundled:capitals", "bundled:arithmetic")
MODELS = ("gemma-3-270m", "smollm2-135m-instruct")
STYLES = ("concise", "cot")


@dataclass(frozen=True)
class DemoPlan:
    questions: int = 40
    samples: int = 10
    cot_tokens: int = 64
    n_bootstrap: int = 500
    seed: int = 0


def run_demo(plan: DemoPlan, *, db_path: Path | None = None, mlflow_uri: str | None = None,
             console: Console | None = None) -> list[tuple[dict, dict]]:
    console = console or Console()
    start = time.perf_counter()
    console.print(f"[bold]workbench demo[/]: {plan.questions} questions per dataset, "
                  f"M = {plan.samples} samples per question at temperature 1, CoT budget "
                  f"{plan.cot_tokens} new tokens, {plan.n_bootstrap} bootstrap resamples.")
    for name in MODELS:
        b = BUNDLED[name]
        console.print(f"  {name}: {b.description}; {b.kind} model, {b.prompt_format} prompts")
    console.print("[yellow]Note:[/] the bundled base and instruct models come from different "
                  "families (Gemma 3 vs SmolLM2), so differences mix tuning with family and "
                  "size. With hub access, compare matched pairs (e.g. Qwen2.5-0.5B vs "
                  "Qwen2.5-0.5B-Instruct).")
    results = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        for dataset in DATASETS:
            for model in MODELS:
                for style in STYLES:
                    label = f"{model} · {style} · {dataset.split(':')[1]}"
                    task = bar.add_task(label, total=plan.questions)
                    req = GenerateRequest(
                        model, f"{dataset}@{plan.questions}", style=style, samples=plan.samples,
                        max_new_tokens=plan.cot_tokens if style == "cot" else None,
                        seed=plan.seed)
                    res = api.run_all(req, n_bootstrap=plan.n_bootstrap, db_path=db_path,
                                      mlflow_uri=mlflow_uri,
                                      progress=lambda d, t, task=task: bar.update(task,
                                                                                  completed=d))
                    est = api.metrics(res.score_id, db_path=db_path)
                    results.append(({"dataset": dataset.split(":")[1], "model": model,
                                     "kind": BUNDLED[model].kind, "style": style,
                                     "run": res.run_id}, est))
    console.print(metrics_table(results, title="Semantic calibration, 95% bootstrap intervals"))
    console.print(f"Demo wall time: {time.perf_counter() - start:.0f} s. "
                  "Explore: `workbench runs`, `workbench show RUN`, `workbench ui`.")
    return results
