"""The contract every backend meets, and the types samples travel in.

A backend is a ``BackendConfig`` (a frozen dataclass: everything that decides how samples are
drawn, stored with the run as JSON so ``resume`` rebuilds it exactly) whose ``open`` gives a
``Sampler``. A sampler turns each question into a request (and the prompt to store) and draws M
completions per request. Registered in ``backends/__init__.py``.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from typing import Callable, ClassVar, Protocol

from ..errors import UsageError

Log = Callable[[str], None]


# Temperatures a sampler is asked for: below 0.01 the distribution is greedy in all but name
# (1e-300 gives degenerate text); NaN and infinity are no temperature at all.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 100.0


@dataclass(frozen=True)
class SamplingParams:
    n: int = 20
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = no top-k
    min_p: float = 0.0  # 0 = no min-p (drop tokens below min_p x the top token's probability)
    max_new_tokens: int = 16
    stop: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self):
        if self.n <= 0:
            raise UsageError("samples", f"must be ≥ 1, got {self.n}")
        if not (self.temperature == 0 or MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE):
            raise UsageError("temperature", f"must be 0 (greedy) or between {MIN_TEMPERATURE} "
                                            f"and {MAX_TEMPERATURE}, got {self.temperature}")
        if not 0 <= self.seed < 2 ** 63:
            raise UsageError("seed", f"must be in [0, 2^63), got {self.seed}")
        if not 0 < self.top_p <= 1:
            raise UsageError("top_p", f"must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise UsageError("top_k", f"must be ≥ 0 (0 = no top-k), got {self.top_k}")
        if not 0 <= self.min_p < 1:
            raise UsageError("min_p", f"must be in [0, 1), got {self.min_p}")
        if self.max_new_tokens <= 0:
            raise UsageError("max_new_tokens", f"must be ≥ 1, got {self.max_new_tokens}")


@dataclass(frozen=True)
class Completion:
    text: str
    n_tokens: int | None  # None: the server reported no tokens
    logprob: float | None  # summed log p of the sampled tokens under the model (temperature 1)
    finish_reason: str  # stop | length
    latency_s: float  # from the start of its batch's prefill (or request) to its last token
    token_ids: tuple[int, ...] = ()  # the sampled tokens, EOS included when emitted
    token_logprobs: tuple[float, ...] = ()  # each sampled token's log p under the model
    top_logprobs: tuple[dict[str, float], ...] = ()  # per token: the likeliest tokens' log p
    endpoint: str | None = None  # the server address that produced it (remote backends)


# How a model was tuned. Only what is known is recorded: a name that says "instruct" says
# nothing of SFT versus preference tuning versus RL, so a model of unknown tuning is "unknown"
# unless the user says (--kind). Preference-tuned models (DPO, like SmolLM2-Instruct) are their
# own kind: the paper finds SFT keeps calibration where preference tuning and RL do not.
KINDS = ("base", "sft", "dpo", "rl", "reasoning", "unknown")


@dataclass(frozen=True)
class ModelInfo:
    """What a run records about its model."""

    name: str
    source: str  # folder or hub id passed to from_pretrained; a server's address
    kind: str  # one of KINDS
    prompt_format: str  # completion | chat


def seed_for(seed: int, key: str) -> int:
    """The seed of one question's generator: a hash of the run's seed and the question."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def threaded_map(fn: Callable, items, workers: int) -> list:
    """``fn`` over ``items`` on up to ``workers`` threads, results in order. A stop (Ctrl-C,
    SIGTERM's SystemExit) does not wait for the calls in flight, which a server that never
    finishes would hold for their whole timeout: queued calls are cancelled and the stop
    unwinds at once (the stage is marked FAILED, the lock released); the CLI then exits without
    joining the threads left (``cli.main``)."""
    pool = ThreadPoolExecutor(max(1, workers))
    try:
        results = list(pool.map(fn, items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def looks_chat(name: str) -> bool:
    """Name-based guess; base models often ship chat templates too, so those are not evidence.
    ``prompt_format`` overrides it."""
    lowered = name.lower()
    return any(tag in lowered for tag in ("instruct", "-chat", "-it", "chat-", "-sft", "-dpo"))


class Sampler(Protocol):
    info: ModelInfo
    stats: dict[str, int]  # prompt_tokens, completion_tokens, and whatever else the backend counts
    # Told how many more questions of the current ``sample`` call are done (a remote question;
    # a local batch pro rata of its decode steps, so a long CoT batch moves too), so progress
    # moves inside a chunk; None when nobody listens. Optional.
    on_sampled: Callable[[float], None] | None

    def request(self, plan, dataset, question) -> tuple[str, object]:
        """The prompt to store, and the request ``sample`` takes, for one question."""

    def provenance(self, params: SamplingParams) -> dict:
        """How the samples are really drawn, as the run records it: ``server_family``,
        ``request_params`` (JSON) and ``sampling_note`` (None when they are drawn from the
        distribution the run records)."""

    def sample(self, items: list[tuple[str, object]], params: SamplingParams
               ) -> list[list[Completion] | Exception]:
        """M completions per (key, request); a request that failed for good gets its exception
        in place of its completions. The key seeds that question's draws."""

    # Optional: ``ask(items, params, top_logprobs)``, one completion per (key, chat messages)
    # with the prompt as sent, for the calls ``workbench elicit`` makes (transformers and
    # openai have it; a backend without it is refused there in one line).


@dataclass(frozen=True)
class BackendConfig:
    """Base of each backend's settings; subclasses add fields and implement the three methods."""

    name: ClassVar[str]
    local: ClassVar[bool] = False  # True: the model is a folder on this machine (resolved again
    # on resume, since a bundled model's cache folder may move)

    def validate(self) -> None:
        """Raise ``UsageError`` naming the field that is wrong."""

    def resolve(self, model: str, kind: str | None, prompt_format: str | None) -> ModelInfo:
        raise NotImplementedError

    def check(self, info: ModelInfo, params: SamplingParams) -> None:
        """Refuse, before anything loads, a request this backend cannot serve (``UsageError``
        naming the parameter)."""

    def open(self, info: ModelInfo, log: Log) -> Sampler:
        raise NotImplementedError

    def settle(self, info: ModelInfo) -> "BackendConfig":
        """This config with its model-dependent defaults filled in, as the run stores it."""
        return self

    def record(self) -> dict:
        """What the run stores (JSON); ``from_record`` reads it back."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> "BackendConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in names})
