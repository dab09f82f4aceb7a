"""Load the paper's datasets by name, through Hugging Face `datasets` (or SimpleQA's public CSV),
map them to workbench questions, and cache the mapped result.

``name[:split]``: e.g. ``gsm8k``, ``triviaqa:validation``, ``math500``. The few-shot pool comes
from the training split where the dataset has one; otherwise a seeded pool of held-out questions
from the asked split (never asked themselves). Tests and offline users can point a split at local
files in the hub's format (``files=``); the mapping code is the same.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import urllib.request
from dataclasses import asdict
from pathlib import Path

from ..config import cache_root
from ..errors import DatasetError
from . import formats
from .formats import FORMATS, HubSpec
from .types import POOL, Dataset, Question, hold_out_pool


def cache_dir() -> Path:
    return cache_root() / "datasets"


def is_hub_name(base: str) -> bool:
    return base.split(":")[0] in FORMATS


def load(base: str, *, files: dict[str, str | os.PathLike] | None = None,
         use_cache: bool = True) -> Dataset:
    """``name[:split]`` → Dataset; ``files`` maps split names to local files in hub format."""
    files = {k: os.fspath(v) for k, v in files.items()} if files else files
    name, _, split = base.partition(":")
    hub = formats.spec(name)
    split = split or hub.default_split
    asked = _mapped(hub, split, files, use_cache)
    if hub.fewshot_split and (files is None or hub.fewshot_split in files):
        pool = _mapped(hub, hub.fewshot_split, files, use_cache)
        pool = random.Random(0).sample(pool, min(POOL, len(pool)))
    else:  # no training split: hold out a seeded pool from the asked one
        asked, pool = hold_out_pool(asked)
    if not asked:
        raise DatasetError(f"{name}:{split} has no questions")
    return Dataset(f"{name}:{split}", _source(hub, split, files), tuple(asked), tuple(pool))


def _source(spec: HubSpec, split: str, files) -> str:
    if files and split in files:
        return f"file:{files[split]} ({spec.name} format)"
    return spec.csv_url or f"hf:{spec.path}" + (f"/{spec.config}" if spec.config else "") + \
        f":{split}"


def _mapped(spec: HubSpec, split: str, files, use_cache: bool) -> list[Question]:
    local = files.get(split) if files else None
    cached = cache_dir() / f"{spec.name}-{split}.jsonl"
    if use_cache and not local and cached.exists():
        return [Question(**{**r, "answers": tuple(r["answers"])})
                for r in map(json.loads, cached.read_text().splitlines())]
    rows = _rows(spec, split, local)
    mapped, bad = [], []
    for i, row in enumerate(rows):
        try:
            q = spec.mapper(row, i, split)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            bad.append(f"row {i}: {exc!r}")
            continue
        if q.answers and q.answers[0]:
            mapped.append(q)
        else:
            bad.append(f"row {i}: no gold answer")
    if not mapped:
        raise DatasetError(f"{spec.name}:{split}: no usable rows ({'; '.join(bad[:5])})")
    if use_cache and not local:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(asdict(q), ensure_ascii=False) + "\n" for q in mapped))
        os.replace(tmp, cached)
    return mapped


def _rows(spec: HubSpec, split: str, local: str | None) -> list[dict]:
    if spec.csv_url:
        return _csv_rows(spec, local)
    # Hugging Face `datasets` is heavy (pandas, fsspec, ...) and only needed for hub names.
    from datasets import load_dataset

    try:
        if local:
            kind = "parquet" if local.endswith(".parquet") else "json"
            return list(load_dataset(kind, data_files={split: local}, split=split))
        if spec.stream_limit:
            stream = load_dataset(spec.path, spec.config, split=split, streaming=True)
            return [row for _, row in zip(range(spec.stream_limit), stream)]
        return list(load_dataset(spec.path, spec.config, split=split))
    except Exception as exc:  # noqa: BLE001 - any failure of the hub becomes one clear line
        where = local or f"{spec.path} ({spec.config or 'default'}) split {split!r}"
        raise DatasetError(
            f"could not load {spec.name} from {where}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:300] if str(exc) else ''}. Loading by name needs the "
            "Hugging Face hub (is this machine offline?); a local file in the same format works "
            "as --dataset PATH") from None


def _csv_rows(spec: HubSpec, local: str | None) -> list[dict]:
    try:
        if local:
            text = Path(local).read_text(encoding="utf-8")
        else:
            with urllib.request.urlopen(spec.csv_url, timeout=30) as response:
                text = response.read().decode("utf-8")
    except OSError as exc:
        raise DatasetError(f"could not fetch {spec.name} from {local or spec.csv_url}: {exc}. "
                           "Loading by name needs the network (is this machine offline?)") from None
    return list(csv.DictReader(io.StringIO(text)))
