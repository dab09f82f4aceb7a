"""Where samples come from: a registry of backends, each a subpackage with a ``Config``.

- ``transformers`` (``transformers/``): the exact batched sampler over a local transformers
  model (``TransformersSampler`` for a run, over the token-level ``TokenSampler``);
- ``openai`` (``openai/``): any OpenAI-compatible server (vLLM, llama.cpp, ``workbench serve``);
- ``vllm`` (``vllm/``): vLLM's offline engine in this process (an optional install).

A new backend is a subpackage whose ``Config`` subclasses ``base.BackendConfig``, and one line in
``BACKENDS``. Configs import nothing heavy; ``Config.open`` loads the model or the client and
returns a ``base.Sampler`` (M completions per question of a run). ``check.py`` tests whether a
server samples the distribution a run asks for. The other direction, the token sampler behind an
OpenAI-compatible server, is ``workbench.server``.
"""

from __future__ import annotations

from .. import registry
from ..errors import UsageError
from .base import BackendConfig, Completion, ModelInfo, SamplingParams

__all__ = ["BACKENDS", "config_class", "BackendConfig", "Completion", "ModelInfo",
           "SamplingParams"]

BACKENDS = {  # name -> subpackage of this package holding its Config
    "transformers": "transformers",
    "openai": "openai",
    "vllm": "vllm",
}


def config_class(name: str) -> type[BackendConfig]:
    if name not in BACKENDS:
        raise UsageError("backend", f"{name!r} is not one of {', '.join(BACKENDS)}")
    return registry.load(__name__, BACKENDS[name] + ":Config")
