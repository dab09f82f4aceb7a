"""The vLLM backend: a local model sampled in process by vLLM's offline engine (``vllm.LLM``).

One request per question with ``n = M``, the run's exact distribution (no top-k, no min-p, no
penalties, and the model folder's ``generation_config.json`` not applied), the question's seed,
the sampled tokens' log p under the model (raw logits, temperature 1), prefix caching on (the
k-shot prompt is shared by every sample of a question, and by every question of a run). Models
resolve as for the transformers backend: a bundled name is its converted folder. vLLM is an
optional install (``make vllm-setup``; ``README.md``); ``Config`` imports nothing of it, and a run
asked of it where it is absent is refused before anything is stored.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, replace
from typing import ClassVar

from ...errors import UsageError
from ..base import BackendConfig, Log, ModelInfo, Sampler, SamplingParams
from ..transformers import models, variants

INSTALL = ("vLLM is not installed in this environment: run `make vllm-setup` (a separate venv, "
           ".venv-vllm, with vLLM's CPU build) or `pip install vllm` on a GPU machine, then "
           "run workbench from that environment")
DTYPES = ("auto", "bfloat16", "float16", "float32")
# Defaults only (a value the user set wins). On vLLM's CPU build, unset, the first two reserve
# most of the machine's memory for the KV cache (GiB here) and pin OpenMP threads to cores that
# other processes share; the GPU build ignores them. vLLM's INFO lines would bury the run's own,
# and it logs to standard output, where `workbench generate` prints only the run id. Its engine
# runs in this process (not in a child): a run killed mid-way then leaves no engine behind
# holding the KV cache's memory (with one, it outlived a SIGKILL here by minutes).
ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "nobind",
       "VLLM_LOGGING_LEVEL": "WARNING", "VLLM_LOGGING_STREAM": "ext://sys.stderr",
       "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}


def installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def _environment() -> None:
    """``ENV``'s defaults, before vLLM is imported (it reads them then)."""
    for key, value in ENV.items():
        os.environ.setdefault(key, value)


@dataclass(frozen=True)
class Config(BackendConfig):
    name: ClassVar[str] = "vllm"
    local: ClassVar[bool] = True  # the model is a folder on this machine
    dtype: str = "auto"  # auto: bfloat16 (vLLM's CPU build and GPUs compute in it)
    max_model_len: int | None = None  # None: the model's own
    tensor_parallel_size: int = 1  # GPUs one model is split over
    data_parallel_size: int = 1  # engine replicas (vLLM's data parallelism)
    prefix_caching: bool = True
    gpu_memory_utilization: float = 0.9  # GPU builds: the share of each GPU vLLM may take
    version: str | None = None  # vLLM's, filled in when the run starts
    device: str | None = None  # what vLLM runs on (cpu, cuda, ...), filled in likewise

    def validate(self) -> None:
        if self.dtype not in DTYPES:
            raise UsageError("dtype", f"{self.dtype!r} is not one of {', '.join(DTYPES)}")
        for field in ("tensor_parallel_size", "data_parallel_size"):
            if getattr(self, field) < 1:
                raise UsageError(field, f"must be ≥ 1, got {getattr(self, field)}")
        if self.max_model_len is not None and self.max_model_len < 1:
            raise UsageError("max_model_len", f"must be ≥ 1, got {self.max_model_len}")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise UsageError("gpu_memory_utilization",
                             f"must be in (0, 1], got {self.gpu_memory_utilization}")
        if self.device is not None:
            raise UsageError("device", "vLLM runs where its build runs (the CPU build on the "
                                       "CPU, a CUDA build on its GPUs): leave it unset")
        if not installed():
            raise UsageError("backend", INSTALL)

    def resolve(self, model: str, kind: str | None, prompt_format: str | None) -> ModelInfo:
        return models.resolve(model, kind=kind, prompt_format=prompt_format)

    def check(self, info: ModelInfo, params: SamplingParams) -> None:
        if variants.lineage(info.source) is not None:
            raise UsageError("model", f"{info.name!r} is a tuned variant (a LoRA adapter over "
                                      "its parent); the vllm backend samples whole model "
                                      "folders: use --backend transformers for it")
        if not installed():
            raise UsageError("backend", INSTALL)

    def settle(self, info: ModelInfo) -> "Config":
        """vLLM's version and device, and the dtype it computes in, as the run records them."""
        _environment()
        # vLLM: seconds to import, and only where it is installed
        import vllm
        from vllm.platforms import current_platform

        return replace(self, version=vllm.__version__, device=current_platform.device_type,
                       dtype="bfloat16" if self.dtype == "auto" else self.dtype)

    def open(self, info: ModelInfo, log: Log) -> Sampler:
        _environment()  # before the sampler module imports vLLM
        # the engine (vLLM, transformers' tokenizer): only when sampling
        from .sampler import VLLMSampler

        log(f"loading {info.name} ({info.kind}, {info.prompt_format} prompts) in vLLM "
            f"{self.version} ({self.dtype} on {self.device}, tensor parallel "
            f"{self.tensor_parallel_size}, data parallel {self.data_parallel_size})")
        return VLLMSampler.load(info, self)
