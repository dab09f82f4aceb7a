"""The OpenAI-compatible backend: samples from any server that speaks the OpenAI API.

``Config`` holds everything that decides how requests are made (stored with the run, so
``resume`` asks the same way); the API key is read from ``api_key_env`` and never stored.
Replicas of the model at other addresses (``replicas``; on the command line ``--base-url``
given again) share the run's requests (``router.py``); the run stores them all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar
from urllib.parse import urlsplit

from ... import config
from ...errors import UsageError
from ..base import BackendConfig, Log, ModelInfo, Sampler, looks_chat
from .servers import FAMILIES, detect

ENDPOINTS = ("chat", "completions")


@dataclass(frozen=True)
class Config(BackendConfig):
    name: ClassVar[str] = "openai"
    base_url: str | None = None  # the server's /v1 address (a list: the first, then replicas)
    replicas: tuple[str, ...] = ()  # more /v1 addresses serving the same model
    endpoint: str | None = None  # chat | completions (default: by the prompt format)
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4  # questions in flight
    timeout: float = 60.0  # seconds a request may take, its whole response included
    max_retries: int = 5
    server: str = "auto"  # the server family (servers.FAMILIES); auto: ask the server

    def __post_init__(self):
        if isinstance(self.base_url, (list, tuple)):  # several addresses: the first, replicas
            first, *more = self.base_url or [None]
            object.__setattr__(self, "base_url", first)
            object.__setattr__(self, "replicas", (*more, *self.replicas))
        object.__setattr__(self, "replicas", tuple(self.replicas))

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.base_url, *self.replicas) if self.base_url else ()

    def validate(self) -> None:
        self.check_fields()
        config.api_key(self.api_key_env, "the openai backend", self.base_url)

    def check_fields(self) -> None:
        """Addresses and request limits (an LLM judge's too), the API key aside."""
        if not self.base_url:
            raise UsageError("base_url", "the openai backend needs the server's address "
                                         "(e.g. http://127.0.0.1:8000/v1)")
        for address in self.urls:
            url = urlsplit(address)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise UsageError("base_url", f"{address!r} is not an http(s) address "
                                             "(e.g. http://127.0.0.1:8000/v1)")
        twice = sorted({u for u in self.urls if self.urls.count(u) > 1})
        if twice:
            raise UsageError("base_url", f"{twice[0]!r} is given twice")
        if self.server != "auto" and self.server not in FAMILIES:
            raise UsageError("server", f"{self.server!r} is not one of auto, "
                                       f"{', '.join(FAMILIES)}")
        if self.endpoint is not None and self.endpoint not in ENDPOINTS:
            raise UsageError("endpoint", f"{self.endpoint!r}: use chat or completions")
        for field, value, low in (("concurrency", self.concurrency, 1),
                                  ("timeout", self.timeout, 1e-9),
                                  ("max_retries", self.max_retries, 0)):
            if not value >= low or value == float("inf"):  # NaN and ∞ too
                raise UsageError(field, f"must be a finite number {'> 0' if low else '≥ 0'}, "
                                        f"got {value}")

    def resolve(self, model: str, kind: str | None, prompt_format: str | None) -> ModelInfo:
        """A served model: nothing to resolve locally; the format follows the endpoint or the
        name."""
        fmt = prompt_format or ("chat" if self.endpoint == "chat" or looks_chat(model)
                                else "completion")
        return ModelInfo(model, self.base_url or "", kind or "unknown", fmt)

    def open(self, info: ModelInfo, log: Log) -> Sampler:
        # The openai client takes about a second to import: only when a run uses it.
        from .client import ClientConfig, OpenAIClient, RetryPolicy
        from .sampler import OpenAISampler

        endpoint = self.endpoint_for(info)
        key = config.api_key(self.api_key_env, "the openai backend", self.base_url)
        client = OpenAIClient(ClientConfig(self.base_url, key, endpoint,
                                           self.timeout, RetryPolicy(self.max_retries),
                                           family=self.server if self.server != "auto"
                                           else "unknown", replicas=self.replicas), info.name)
        log(f"sampling {info.name} from {', '.join(self.urls)} ({endpoint})")
        return OpenAISampler(info, client, self.concurrency)

    def settle(self, info: ModelInfo) -> "Config":
        """The endpoint for this model, and the server family (asked of the server when
        ``auto``), as the run stores them: ``resume`` then asks the same way."""
        server = (detect(self.base_url, config.api_key(self.api_key_env, "the openai backend",
                                                       self.base_url))
                  if self.server == "auto" else self.server)
        return replace(self, endpoint=self.endpoint_for(info), server=server)

    def endpoint_for(self, info: ModelInfo) -> str:
        return self.endpoint or ("chat" if info.prompt_format == "chat" else "completions")
