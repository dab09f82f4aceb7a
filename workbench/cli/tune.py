"""``workbench tune``: a tuned variant (RL or SFT, LoRA) of a local model, and ``tunings``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..tuning.request import TuneRequest
from .app import app
from .common import DbOpt, MlflowOpt, SeedOpt, api, err, friendly, out

_D = TuneRequest("", "", "")  # the API's defaults, shown by --help


@app.command()
@friendly
def tune(parent: str = typer.Option(..., "--from", help="the parent: a bundled model name or "
                                    "a local model folder"),
         method: str = typer.Option(..., "--method", help="rl (REINFORCE/GRPO on a correctness "
                                    "reward) | sft (cross-entropy on gold answers)"),
         dataset: str = typer.Option(..., "--dataset", help="training questions, e.g. "
                                     "bundled:capitals:train (disjoint from "
                                     "bundled:capitals:test)"),
         variant: Optional[str] = typer.Option(None, "--name", help="the variant's model name "
                                               "[default: PARENT-METHOD]"),
         steps: int = typer.Option(_D.steps, "--steps"),
         learning_rate: float = typer.Option(_D.learning_rate, "--lr"),
         questions_per_step: int = typer.Option(_D.questions_per_step, "--questions-per-step"),
         group: int = typer.Option(_D.group, "--group", help="RL: rollouts per question"),
         lora_rank: int = typer.Option(_D.lora_rank, "--lora-rank"),
         lora_targets: str = typer.Option(",".join(_D.lora_targets), "--lora-targets",
                                          help="comma-separated module names"),
         style: str = typer.Option(_D.style, "--style"),
         shots: Optional[int] = typer.Option(None, "--shots",
                                             help="[default: 5 for base, 0 for chat]"),
         max_new_tokens: int = typer.Option(_D.max_new_tokens, "--max-new-tokens",
                                            help="RL rollout length"),
         judge: str = typer.Option(_D.judge, "--judge", help="RL reward: a rule judge's verdict"),
         seed: int = SeedOpt,
         overwrite: bool = typer.Option(False, "--overwrite", help="replace a variant of this "
                                        "name tuned with other settings"),
         db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Tune a variant of a local model with LoRA; prints its model name for --model."""
    req = TuneRequest(parent, method, dataset, variant, steps, learning_rate, seed,
                      questions_per_step, group, lora_rank,
                      tuple(t.strip() for t in lora_targets.split(",") if t.strip()), style,
                      shots, max_new_tokens, judge, overwrite)
    res = api.tune(req, db_path=db, mlflow_uri=mlflow_uri,
                   log=lambda s: err.print(s, soft_wrap=True, markup=False, highlight=False))
    err.print(f"{'cached' if res.cached else 'tuned'}: {res.name} ({res.tuning_id}) in "
              f"{res.folder}", soft_wrap=True, markup=False, highlight=False)
    out.print(res.name)


@app.command()
@friendly
def tunings(db: Optional[Path] = DbOpt):
    """Tuned variants recorded in the store: lineage and status."""
    table = Table("tuning", "name", "parent", "method", "dataset", "steps", "lr", "seed",
                  "status", box=None)
    for t in api.list_tunings(db_path=db):
        table.add_row(t["tuning_id"], t["name"], t["parent_model"], t["method"], t["dataset"],
                      str(t["steps"]), f"{t['learning_rate']:g}", str(t["seed"]),
                      t["status"] + (" (cached)" if t["cached"] else ""))
    out.print(table)
