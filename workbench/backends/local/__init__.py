"""The local backend: a transformers model on this machine, sampled exactly and in batches.

``Config`` is light; ``open`` loads the model (torch and transformers import then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...errors import UsageError
from ..base import BackendConfig, Log, ModelInfo, Sampler, SamplingParams
from .memory import check_samples, default_budget, shape_of
from .models import DTYPE_BYTES, DTYPES, load_config, resolve


@dataclass(frozen=True)
class Config(BackendConfig):
    name: ClassVar[str] = "transformers"
    dtype: str = "float32"  # float32 runs the checkpoint as converted; bfloat16 rounds weights

    def validate(self) -> None:
        if self.dtype not in DTYPES:
            raise UsageError("dtype", f"{self.dtype!r} is not one of {', '.join(DTYPES)}")

    def resolve(self, model: str, kind: str | None, prompt_format: str | None) -> ModelInfo:
        return resolve(model, kind=kind, prompt_format=prompt_format)

    def check(self, info: ModelInfo, params: SamplingParams) -> None:
        """Refuse, before the weights load, an M whose rows cannot fit the memory budget."""
        shape = shape_of(load_config(info))
        check_samples(shape, params.n, params.max_new_tokens, DTYPE_BYTES[self.dtype],
                      default_budget())

    def open(self, info: ModelInfo, log: Log) -> Sampler:
        from .backend import LocalBackend  # torch and transformers: heavy, only when sampling

        log(f"loading {info.name} ({info.kind}, {info.prompt_format} prompts, {self.dtype})")
        return LocalBackend.load(info, self.dtype)
