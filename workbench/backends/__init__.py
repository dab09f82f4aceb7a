"""Where samples come from: a registry of backends, each a subpackage with a ``Config``.

- ``transformers`` (``local/``): the exact batched sampler over a local transformers model;
- ``openai`` (``openai/``): any OpenAI-compatible server (vLLM, llama.cpp, ``workbench serve``).

A new backend is a subpackage whose ``Config`` subclasses ``base.BackendConfig``, and one line in
``BACKENDS``. Configs import nothing heavy; ``Config.open`` loads the model or the client.
``serve.py`` is the other direction: the local sampler behind an OpenAI-compatible server.
"""

from __future__ import annotations

from importlib import import_module

from ..errors import UsageError
from .base import BackendConfig, Completion, ModelInfo, SamplingParams

__all__ = ["BACKENDS", "config_class", "BackendConfig", "Completion", "ModelInfo",
           "SamplingParams"]

BACKENDS = {  # name -> subpackage of this package holding its Config
    "transformers": "local",
    "openai": "openai",
}


def config_class(name: str) -> type[BackendConfig]:
    if name not in BACKENDS:
        raise UsageError("backend", f"{name!r} is not one of {', '.join(BACKENDS)}")
    return import_module(f"{__name__}.{BACKENDS[name]}").Config
