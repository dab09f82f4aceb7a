"""What ``generate`` is asked: a plain value, importable without the stage (the CLI declares its
options from it before any store or model is touched)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backends.base import BackendConfig
from ..backends.transformers import Config as LocalConfig


@dataclass(frozen=True)
class GenerateRequest:
    model: str
    dataset: str
    style: str = "concise"
    samples: int = 20
    shots: int | None = None  # default: 5 for completion prompts, 0 for chat
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int | None = None
    seed: int = 0
    prompt_format: str | None = None  # completion | chat; inferred from the model
    kind: str | None = None  # backends.base.KINDS; known for bundled models, else "unknown"
    skip_bad_rows: bool = False
    chunk_size: int = 8  # questions sampled (and committed) together
    backend: BackendConfig = field(default_factory=LocalConfig)
    resume: bool = False  # finish the newest unfinished run with these settings, if any
    cell_key: str | None = None  # the experiment cell asking (experiments/spec.py), stored on
    # the run so the cell finds it again
