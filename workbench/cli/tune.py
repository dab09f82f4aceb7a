"""``workbench tune``: a tuned variant (RL or SFT, LoRA) of a local model, and ``tunings``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..render.console import write_rows
from ..tuning.request import TuneRequest
from .app import app
from .common import DbOpt, Format, FormatOpt, MlflowOpt, SeedOpt, api, err, friendly, out, renamed

_D = TuneRequest("", "", "")  # the API's defaults, shown by --help


@app.command()
@friendly(judge="--reward-judge")
def tune(parent: str = typer.Option(..., "--from", help="the parent: a bundled model name or "
                                    "a local model folder"),
         method: str = typer.Option(..., "--method", help="rl (REINFORCE/GRPO on a correctness "
                                    "reward) | sft (cross-entropy on gold answers)"),
         dataset: str = typer.Option(..., "--dataset", help="training questions, e.g. "
                                     "bundled:capitals:train (disjoint from "
                                     "bundled:capitals:test)"),
         variant: Optional[str] = typer.Option(None, "--name", help="the variant's model name",
                                               show_default="PARENT-METHOD"),
         steps: int = typer.Option(_D.steps, "--steps", help="optimizer steps"),
         learning_rate: float = typer.Option(_D.learning_rate, "--lr", help="learning rate"),
         questions_per_step: int = typer.Option(_D.questions_per_step, "--questions-per-step",
                                                help="training questions per step"),
         group: int = typer.Option(_D.group, "--group", help="RL: rollouts per question"),
         lora_rank: int = typer.Option(_D.lora_rank, "--lora-rank", help="LoRA rank r"),
         lora_targets: str = typer.Option(",".join(_D.lora_targets), "--lora-targets",
                                          help="comma-separated module names"),
         style: str = typer.Option(_D.style, "--style", help="concise | sentence | cot"),
         shots: Optional[int] = typer.Option(None, "--shots", help="few-shot exemplars in the "
                                             "prompt", show_default="5 for base, 0 for chat"),
         max_new_tokens: int = typer.Option(_D.max_new_tokens, "--max-new-tokens",
                                            help="RL rollout length"),
         reward_judge: str = typer.Option(_D.judge, "--reward-judge", help="RL: the rule judge "
                                          "whose verdict is the reward"),
         kl_coef: float = typer.Option(_D.kl_coef, "--kl-coef", help="RL: weight of the "
                                       "per-token KL penalty to the parent (0: none)"),
         advantage: str = typer.Option(_D.advantage, "--advantage", help="RL: mean (reward − "
                                       "group mean) | normalised (÷ the group's sd, as GRPO)"),
         judge: Optional[str] = typer.Option(None, "--judge", hidden=True,
                                             help="deprecated: --reward-judge"),
         seed: int = SeedOpt,
         overwrite: bool = typer.Option(False, "--overwrite", help="replace a variant of this "
                                        "name tuned with other settings"),
         db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Tune a variant of a local model with LoRA; prints its model name for --model."""
    judge = renamed(reward_judge, judge, "--judge", "--reward-judge")
    req = TuneRequest(parent, method, dataset, variant, steps=steps,
                      learning_rate=learning_rate, seed=seed,
                      questions_per_step=questions_per_step, group=group, lora_rank=lora_rank,
                      lora_targets=tuple(t.strip() for t in lora_targets.split(",") if t.strip()),
                      style=style, shots=shots, max_new_tokens=max_new_tokens, judge=judge,
                      kl_coef=kl_coef, advantage=advantage, overwrite=overwrite)
    res = api.tune(req, db_path=db, mlflow_uri=mlflow_uri,
                   log=lambda s: err.print(s, soft_wrap=True, markup=False, highlight=False))
    err.print(f"{'cached' if res.cached else 'tuned'}: {res.name} ({res.tuning_id}) in "
              f"{res.folder}", soft_wrap=True, markup=False, highlight=False)
    out.print(res.name)


@app.command()
@friendly
def tunings(fmt: Format = FormatOpt, db: Optional[Path] = DbOpt):
    """Tuned variants recorded in the store: lineage and status."""
    cols = ["tuning_id", "name", "parent_model", "method", "dataset", "steps", "learning_rate",
            "seed", "status", "cached"]
    write_rows(out, cols, [[t[c] for c in cols] for t in api.list_tunings(db_path=db)], fmt)
