"""A tuned variant's lineage recorded in a store: the tuning row, its curve and adapter, read
from the variant's folder (``lineage.json``). Both ``generate`` (a variant sampled in a store
that has not seen it) and ``tune`` (a cached variant) record it this way."""

from __future__ import annotations

import json
from pathlib import Path

from .. import data
from ..errors import StageError
from ..store import queries, records
from .context import Context, stage


def record_lineage(ctx: Context, lineage: dict, folder: Path, cached: bool = True) -> None:
    """Record a variant's lineage from its folder in this store, unless it is there already."""
    with ctx.writer.session() as con:
        if queries.has_tuning(con, lineage["tuning_id"]):
            return
    ds = data.load(lineage["dataset"])
    if ds.content_hash != lineage["dataset_hash"]:
        raise StageError(f"variant {lineage['name']}: its training data {lineage['dataset']} "
                         "has changed since it was tuned (content hash differs); tune it again "
                         "with overwrite")
    with ctx.writer.transaction() as con:
        records.ensure_dataset(con, ds)
        records.create_tuning(con, {**tuning_row(lineage, ds.dataset_id), "cached": cached})
        records.add_tuning_steps(con, lineage["tuning_id"], lineage["curve"])
        records.set_adapter(con, lineage["tuning_id"], str(folder), lineage["adapter_sha256"],
                            cached)
        records.set_stats(con, "tunings", lineage["tuning_id"],
                          {"seconds": sum(r["seconds"] for r in lineage["curve"])})
    with stage(ctx, "tunings", lineage["tuning_id"]):
        pass


def tuning_row(lineage: dict, dataset_id: str) -> dict:
    return {"tuning_id": lineage["tuning_id"], "name": lineage["name"],
            "parent_model": lineage["parent_model"], "parent_source": lineage["parent_source"],
            "method": lineage["method"], "dataset_id": dataset_id, "steps": lineage["steps"],
            "learning_rate": lineage["learning_rate"], "seed": lineage["seed"],
            "settings": json.dumps(lineage["settings"], sort_keys=True),
            "package_version": lineage["package_version"], "git_sha": lineage["git_sha"]}
