"""The tuning stage: make a tuned variant of a local model (``workbench tune``) and record its
lineage.

Everything is checked before the model loads: the method, the settings, the data, the reward's
judge, the few-shot pool, the memory the rollouts need, and the variant's name. A variant whose
folder in the model cache came from the same tuning (same id: parent, data hash and settings) is
not trained again: its lineage is recorded in this store (``cached``) and it is ready. The row in
``tunings`` is RUNNING while training, each step's loss and reward go to ``tuning_steps`` as they
happen, and the MLflow mirror is a training run with the curve. Runs that sample the variant
record its tuning id (``runs.tuning_id``), and a store that samples a variant tuned elsewhere
gets its lineage from the variant's folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import __version__, data, prompts
from ..backends.base import SamplingParams
from ..backends.transformers import Config as LocalConfig
from ..backends.transformers import models, variants
from ..backends.transformers.models import BUNDLED
from ..errors import UsageError
from ..grading import judges
from ..lifecycle.context import Context, check_writable, open_context, stage
from ..lifecycle.lineage import record_lineage, tuning_row
from ..store import records
from ..tracking import git_sha
from ..tuning import METHODS
from ..tuning.request import TuneRequest
from ..tuning.train import train

Log = Callable[[str], None]


@dataclass(frozen=True)
class TuneResult:
    tuning_id: str
    name: str  # the variant's model name
    folder: Path
    cached: bool  # the adapter was already in the model cache
    curve: tuple[dict, ...]  # per step: step, loss, reward, seconds


def tune(req: TuneRequest, *, db_path: Path | None = None, mlflow_uri: str | None = None,
         log: Log = lambda s: None, progress: Callable[[dict], None] | None = None
         ) -> TuneResult:
    req.validate(METHODS)
    check_writable(db_path, mlflow_uri)
    name = req.variant_name
    if name in BUNDLED:
        raise UsageError("variant", f"{name!r} is a bundled model's name; choose another")
    if req.judge not in judges.RULES:
        raise UsageError("judge", f"{req.judge!r}: the reward uses a rule judge "
                                  f"({', '.join(judges.RULES)})")
    ds = data.load(req.dataset)
    backend = LocalConfig()
    info = backend.resolve(req.parent, None, None)
    shots = req.shots if req.shots is not None else (5 if info.prompt_format == "completion"
                                                     else 0)
    plan = prompts.PromptPlan(req.style, info.prompt_format, shots, req.seed)
    prompts.check_pool(ds, shots)
    backend.check(info, SamplingParams(n=req.group * req.questions_per_step,
                                       max_new_tokens=req.max_new_tokens))
    missing = models.missing_modules(info, req.lora_targets)
    if missing:  # before a row is stored: peft would only find out after the model loads
        raise UsageError("lora_targets", f"{', '.join(missing)}: no such module in "
                                         f"{info.name} (e.g. q_proj, v_proj)")
    tuning_id = req.tuning_id(info.name, ds.content_hash, shots)
    found = variants.find(name)
    if found is not None:
        earlier = variants.lineage(found)
        if earlier["tuning_id"] == tuning_id:
            log(f"{name}: already tuned with these settings ({found}); recording its lineage")
            with open_context(db_path, mlflow_uri, log) as ctx:
                record_lineage(ctx, earlier, found, cached=True)
            return TuneResult(tuning_id, name, found, True, tuple(earlier["curve"]))
        if not req.overwrite:
            raise UsageError("variant", f"a variant {name!r} exists, tuned with other settings "
                                     f"({earlier['tuning_id']}: {earlier['method']} of "
                                     f"{earlier['parent_model']} on {earlier['dataset']}); "
                                     "choose another name or overwrite it")
    lineage = {"tuning_id": tuning_id, "name": name, "parent_model": _parent_ref(info),
               "parent_source": info.source, "method": req.method,
               "prompt_format": info.prompt_format, "dataset": req.dataset,
               "dataset_name": ds.name, "dataset_hash": ds.content_hash,
               "steps": req.steps, "learning_rate": req.learning_rate, "seed": req.seed,
               "settings": req.settings(shots), "package_version": __version__,
               "git_sha": git_sha()}
    with open_context(db_path, mlflow_uri, log) as ctx:
        with ctx.writer.transaction() as con:
            records.ensure_dataset(con, ds)
            records.create_tuning(con, tuning_row(lineage, ds.dataset_id))
        with stage(ctx, "tunings", tuning_id):
            folder, curve = _train(ctx, req, info, ds, plan, lineage, log, progress)
    return TuneResult(tuning_id, name, folder, False, tuple(curve))


def _train(ctx: Context, req, info, ds, plan, lineage: dict, log: Log, progress):
    curve: list[dict] = []

    def on_step(rec: dict) -> None:
        curve.append(rec)
        with ctx.writer.session() as con:
            records.add_tuning_steps(con, lineage["tuning_id"], [rec])
        reward = "" if rec["reward"] is None else (
            f", reward {rec['reward']:.3f}, KL to parent {rec['kl']:.4f}, unanimous groups "
            f"{rec['unanimous']:.0%}")
        log(f"step {rec['step'] + 1}/{req.steps}: loss {rec['loss']:.4f}{reward} "
            f"({rec['seconds']:.1f} s)")
        if progress:
            progress(rec)

    log(f"tuning {lineage['name']}: {req.method} on {ds.name} ({len(ds.questions)} questions) "
        f"from {info.name}, {req.steps} steps")
    model = train(req, info, ds, plan, judges.get(req.judge), on_step)
    folder, digest = variants.save(model, lineage["name"], {**lineage, "curve": curve})
    with ctx.writer.session() as con:
        records.set_adapter(con, lineage["tuning_id"], str(folder), digest, False)
        records.set_stats(con, "tunings", lineage["tuning_id"],
                          {"seconds": sum(r["seconds"] for r in curve),
                           "trainable_parameters": sum(p.numel() for p in model.parameters()
                                                       if p.requires_grad)})
    return folder, curve


def _parent_ref(info) -> str:
    """How the variant finds its parent again: a bundled or tuned name, a hub id, or the
    folder's absolute path."""
    if info.name in BUNDLED or variants.find(info.name) or info.source == info.name:
        return info.name
    return info.source
