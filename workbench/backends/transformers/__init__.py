"""The transformers backend: a model on this machine, sampled exactly and in batches
(``sampler.TransformersSampler`` for a run, over ``tokens.TokenSampler``).

``Config`` is light; ``open`` loads the model (torch and transformers import then).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from ..base import BackendConfig, Log, ModelInfo, Sampler, SamplingParams
from .device import DTYPE_BYTES, check_names, resolve_device, resolve_dtype
from .memory import check_samples, default_budget, shape_of
from .models import load_config, resolve


@dataclass(frozen=True)
class Config(BackendConfig):
    name: ClassVar[str] = "transformers"
    local: ClassVar[bool] = True
    dtype: str = "auto"  # auto: bfloat16/float16 on accelerators, float32 (as converted) on CPU
    device: str = "auto"  # auto: the first CUDA device, else MPS, else the CPU

    def validate(self) -> None:
        check_names(self.device, self.dtype)

    def settle(self, info: ModelInfo) -> "Config":
        """``auto`` resolved on this machine, as the run records it."""
        device = resolve_device(self.device)
        return replace(self, device=device, dtype=resolve_dtype(self.dtype, device))

    @classmethod
    def from_record(cls, record: dict) -> "Config":
        # Runs recorded before devices were chosen ran on the CPU.
        return super().from_record({"device": "cpu", **record})

    def resolve(self, model: str, kind: str | None, prompt_format: str | None) -> ModelInfo:
        return resolve(model, kind=kind, prompt_format=prompt_format)

    def check(self, info: ModelInfo, params: SamplingParams) -> None:
        """Refuse, before the weights load, an M whose rows cannot fit the memory budget."""
        shape = shape_of(load_config(info))
        check_samples(shape, params.n, params.max_new_tokens,
                      DTYPE_BYTES[resolve_dtype(self.dtype, self.device)],
                      default_budget(self.device))

    def open(self, info: ModelInfo, log: Log) -> Sampler:
        # torch and transformers: heavy, only when sampling
        from .sampler import TransformersSampler

        log(f"loading {info.name} ({info.kind}, {info.prompt_format} prompts, {self.dtype} on "
            f"{self.device})")
        return TransformersSampler.load(info, self.dtype, self.device)
