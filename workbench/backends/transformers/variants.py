"""Where a tuned variant lives: ``<model cache>/tuned/NAME/`` holds its LoRA adapter (peft's
``adapter_config.json`` and ``adapter_model.safetensors``) and ``lineage.json``: the tuning id,
parent, method, data (name and content hash), settings, the adapter's SHA-256 and the training
curve. The folder is written whole or not at all (a temporary folder, then a rename)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ...config import atomic_folder, model_cache_dir

LINEAGE = "lineage.json"
ADAPTER = "adapter_model.safetensors"


def folder(name: str) -> Path:
    return model_cache_dir() / "tuned" / name


def find(name: str) -> Path | None:
    """The folder of a tuned variant with this name, or None."""
    path = folder(name)
    return path if (path / LINEAGE).exists() else None


def lineage(path: str | os.PathLike) -> dict | None:
    """The lineage of the variant in this folder; None when it is not a tuned variant."""
    file = Path(path) / LINEAGE
    return json.loads(file.read_text()) if file.exists() else None


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def save(model, name: str, record: dict) -> tuple[Path, str]:
    """Save a peft model's adapter and its lineage as variant ``name``; (folder, adapter sha)."""
    target = folder(name)
    with atomic_folder(target) as tmp:
        model.save_pretrained(str(tmp))
        digest = sha256(tmp / ADAPTER)
        (tmp / LINEAGE).write_text(json.dumps({**record, "adapter_sha256": digest}, indent=1,
                                              sort_keys=True, default=str))
    return target, digest
