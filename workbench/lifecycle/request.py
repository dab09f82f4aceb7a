"""What ``generate`` is asked: a plain value, importable without the stage (the CLI declares its
options from it before any store or model is touched)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .. import prompts
from ..backends import config_class
from ..backends.base import BackendConfig, ModelInfo, SamplingParams
from ..backends.transformers import Config as LocalConfig
from ..backends.transformers import variants
from ..errors import StageError, UsageError

# Backend settings older runs kept in columns of their own (before backend_config)
RUN_COLUMNS = ("dtype", "device", "base_url", "endpoint", "api_key_env")


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

    def check(self) -> None:
        """Its own sampling and prompt fields (``UsageError`` naming the field), checked before
        the model resolves: a first use converts it, a minute for nothing. The token budget's
        default and the prompt format depend on the model, so stand-ins are checked where none
        was asked."""
        prompts.PromptPlan(self.style, "completion", self.shots or 0, self.seed)
        SamplingParams(n=self.samples, temperature=self.temperature, top_p=self.top_p,
                       top_k=self.top_k, seed=self.seed,
                       max_new_tokens=1 if self.max_new_tokens is None else self.max_new_tokens)
        if self.chunk_size <= 0:
            raise UsageError("chunk_size", f"must be ≥ 1, got {self.chunk_size}")


def stored_backend(run: dict) -> BackendConfig:
    """The backend settings a run stored (older runs: from the columns they had)."""
    cls = config_class(run["backend"])
    record = (json.loads(run["backend_config"]) if run.get("backend_config")
              else {k: run.get(k) for k in RUN_COLUMNS if run.get(k) is not None})
    return cls.from_record(record)


def run_model(run: dict, otherwise: str) -> tuple[BackendConfig, ModelInfo]:
    """The backend and model a stored run sampled, to ask the same model again (``resume``,
    ``elicit``). A local model re-tuned since is another model: refused, ``otherwise`` saying
    what that would do."""
    backend = stored_backend(run)
    info = ModelInfo(run["model"], run["model_source"], run["model_kind"], run["prompt_format"])
    if backend.local:  # a bundled model's cache folder may have moved
        info = backend.resolve(run["model"], run["model_kind"], run["prompt_format"])
        now = (variants.lineage(info.source) or {}).get("tuning_id")
        if now != run.get("tuning_id"):
            raise StageError(f"run {run['run_id']}: model {run['model']!r} is now tuning {now}, "
                             f"not the {run.get('tuning_id')} the run sampled (re-tuned with "
                             f"other settings), so {otherwise}")
    return backend, info
