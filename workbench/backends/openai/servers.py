"""OpenAI-compatible servers by family: how each is told the whole sampling distribution.

A request that leaves a field out gets the server's default, and servers truncate by default:
llama.cpp's server samples with top-k 40 and min-p 0.05 (llama-cpp-python's also with a repeat
penalty of 1.1), plus whatever its command line sets (dynamic temperature, a logit bias); vLLM
applies a model's ``generation_config.json`` (Qwen2.5-Instruct: top-k 20, top-p 0.8, repetition
penalty 1.05); Ollama has top-k 40, top-p 0.9. The plurality share, the very confidence this
workbench measures, rises when the tail is cut. So every request states the run's distribution
in the fields its server family reads: top-k off in that family's convention (or the run's
top-k), min-p 0, penalties neutral, no mirostat. A family that cannot be told (Ollama's OpenAI
endpoint, a hosted API that may do anything) is recorded as such, and the run says its
confidences may be truncated.

``FAMILIES`` is the registry: a new family is one entry. ``detect`` asks the server which it is
(``owned_by`` in ``/v1/models``, then endpoints only one family serves).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlparse

from ...errors import RemoteError
from ..base import SamplingParams

NEUTRAL_PENALTIES = {"presence_penalty": 0.0, "frequency_penalty": 0.0}


@dataclass(frozen=True)
class ServerFamily:
    name: str
    fields: Callable[[SamplingParams], dict]  # body fields beyond OpenAI's own
    faithful: bool  # True: these fields make it sample the run's distribution
    note: str  # what it does by default, or what cannot be set
    owned_by: tuple[str, ...] = ()  # what its /v1/models says
    probe: str | None = None  # a path (from the server's root) that only this family serves
    choice: Callable[[tuple[str, ...]], dict] | None = None  # body fields that constrain the
    # reply to one of some strings (constrained decoding), where the family offers it
    unpinned: tuple[str, ...] = ()  # settings that change its samples and no request can state


def _guided(options: tuple[str, ...]) -> dict:
    return {"guided_choice": list(options)}


def _grammar(options: tuple[str, ...]) -> dict:
    return {"grammar": "root ::= " + " | ".join(f'"{o}"' for o in options)}


def _vllm_like(p: SamplingParams) -> dict:
    return {"top_k": p.top_k or -1, "min_p": p.min_p, "repetition_penalty": 1.0,
            **NEUTRAL_PENALTIES}


def _llamacpp(p: SamplingParams) -> dict:
    # Every field a llama.cpp server can be started with a default for: dynamic temperature
    # (--dynatemp-range) and a logit bias (--logit-bias) changed samples silently when unsent.
    return {"top_k": p.top_k, "min_p": p.min_p, "repeat_penalty": 1.0, "mirostat": 0,
            "mirostat_mode": 0, "typical_p": 1.0, "tfs_z": 1.0, "xtc_probability": 0.0,
            "dry_multiplier": 0.0, "top_n_sigma": -1.0, "dynatemp_range": 0.0,
            "dynatemp_exponent": 1.0, "logit_bias": [], **NEUTRAL_PENALTIES}


FAMILIES = {f.name: f for f in [
    ServerFamily("vllm", _vllm_like, True, "applies the model's generation_config.json to "
                 "fields a request leaves out", ("vllm",), "/version", _guided),
    ServerFamily("sglang", _vllm_like, True, "applies the model's generation_config.json to "
                 "fields a request leaves out", ("sglang",), "/get_model_info", _guided),
    ServerFamily("llamacpp", _llamacpp, True, "defaults to top-k 40, min-p 0.05, repeat "
                 "penalty 1.1", ("llamacpp", "me"), "/props", _grammar),
    ServerFamily("tgi", lambda p: ({"top_k": p.top_k} if p.top_k else {}) | NEUTRAL_PENALTIES,
                 True, "samples untruncated unless asked", ("tgi",), "/info"),
    ServerFamily("workbench", lambda p: {"top_k": p.top_k, "min_p": p.min_p,
                                         "repetition_penalty": 1.0, **NEUTRAL_PENALTIES},
                 True, "workbench serve: exact sampling of the stated distribution",
                 ("workbench",)),
    ServerFamily("ollama", lambda p: dict(NEUTRAL_PENALTIES), False,
                 "its OpenAI endpoint cannot be told top-k, min-p or the repeat penalty "
                 "(defaults: top-k 40, top-p 0.9, repeat penalty 1.1)", ("library", "ollama"),
                 "/api/version", unpinned=("top_k", "min_p", "repeat_penalty")),
    ServerFamily("openai", lambda p: dict(NEUTRAL_PENALTIES), False,
                 "a hosted API: no top-k or min-p field, and how it samples is not published",
                 unpinned=("top_k", "min_p", "the sampler itself (not published)")),
    ServerFamily("unknown", lambda p: {}, False,
                 "an unrecognised server: its sampling defaults are not known (name it with "
                 "--server, and check it with `workbench check-server`)",
                 unpinned=("top_k", "min_p", "repetition penalty", "any field beyond OpenAI's")),
]}


def family(name: str) -> ServerFamily:
    return FAMILIES[name]


def note_for(fam: ServerFamily, params: SamplingParams) -> str | None:
    """One line for a run whose samples may not come from the distribution it records."""
    if fam.faithful:
        return None
    return f"{fam.name}: {fam.note}; confidences may be inflated by truncation"


def _get(url: str, key: str | None, timeout: float):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


LOADING_WAIT = 120.0  # seconds to wait for a server that answers 503 while it loads a model


def detect(base_url: str, api_key: str | None = None, timeout: float = 3.0, *,
           wait: float = LOADING_WAIT, sleep=time.sleep, clock=time.monotonic,
           log=lambda s: None) -> str:
    """The family a server says it is, or ``unknown``. A server still loading its model
    answers 503: that is waited out (up to ``wait`` seconds, then an error), not read as a
    server of no known family."""
    if urlparse(base_url).hostname == "api.openai.com":
        return "openai"
    deadline, said = clock() + wait, False
    while True:
        try:
            _, body = _get(base_url.rstrip("/") + "/models", api_key, timeout)
            owners = {m.get("owned_by") for m in json.loads(body).get("data", [])}
            break
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                owners = set()
                break
            if clock() >= deadline:
                raise RemoteError(f"{base_url} still answers 503 (loading its model?) after "
                                  f"{wait:g} s", 503) from None
            if not said:
                log(f"{base_url} answers 503 (loading its model?); waiting up to {wait:g} s")
                said = True
            sleep(2.0)
        except (OSError, ValueError, AttributeError):
            owners = set()
            break
    for f in FAMILIES.values():
        if owners & set(f.owned_by):
            return f.name
    root = base_url.rstrip("/").removesuffix("/v1")
    for f in FAMILIES.values():
        if f.probe is None:
            continue
        try:
            status, _ = _get(root + f.probe, api_key, timeout)
            if status == 200:
                return f.name
        except (OSError, ValueError):
            continue
    return "unknown"
