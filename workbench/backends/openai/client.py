"""One OpenAI-compatible endpoint, or replicas of one model at several addresses (chat or
completions): requests, retries, usage accounting.

Retries use exponential backoff with jitter and honour Retry-After on 429 and 5xx; timeouts,
dropped connections and malformed bodies are retried too, other 4xx never. The loop is ours, and
the ``openai`` client's own retries are off (``max_retries=0``), for what that client does not
do: count each retry for the run's accounting, retry a garbled or choice-less body, honour a
Retry-After of up to ``RetryPolicy.max_retry_after`` (its own cap is 60 s), and ask again
without logprobs when a server refuses them. Prompt and completion
tokens are counted from the servers' usage reports. Used by the sampler (``sampler.py``) and by
LLM judges.

With replicas (``ClientConfig.replicas``), each attempt goes where ``router.Router`` says (the
fewest requests in flight; an endpoint that just failed is out for a back-off period), so a
retry after a failure goes to another endpoint at once; the retry delay is waited only when
every endpoint is out. Each completion names the address that produced it.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from dataclasses import dataclass

import openai

from ...errors import RemoteError
from ..base import Completion, SamplingParams
from .router import Router
from .servers import family
from .transport import MAX_RESPONSE_BYTES, Bounded


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base: float = 0.5  # seconds before the first retry, doubling each time
    cap: float = 30.0
    max_retry_after: float = 600.0  # a server's Retry-After is honoured up to this

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): the server's Retry-After when it
        gives one, else capped exponential backoff with full jitter in [d/2, d]."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_retry_after))
        d = min(self.cap, self.base * 2 ** attempt)
        return d / 2 + rng.random() * d / 2


def retryable(status: int | None) -> bool:
    """None: no HTTP status (timeout, connection, garbled body)."""
    return status is None or status == 429 or status >= 500


def retry_after_seconds(headers, now: float | None = None) -> float | None:
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - (now or time.time())) if when else None


class MalformedResponse(Exception):
    """A body that parsed as JSON but is not a completion (missing choices or fields)."""


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    api_key: str
    endpoint: str  # chat | completions
    timeout: float = 60.0
    retry: RetryPolicy = RetryPolicy()
    logprobs: bool = True
    family: str = "unknown"  # servers.FAMILIES: which fields state the sampling distribution
    max_response_bytes: int = MAX_RESPONSE_BYTES  # a longer body is an error, not a memory fill
    replicas: tuple[str, ...] = ()  # more addresses serving the same model

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.base_url, *self.replicas)


def _tokens(usage, field: str) -> int:
    """A count from the server's usage report; what is no count (a string for ``usage``, a
    number as text, a negative or huge float) counts nothing rather than breaking the tally."""
    value = getattr(usage, field, None)
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 40
    return value if ok else 0


class OpenAIClient:
    """Requests to one endpoint; ``complete`` is the one public call. Thread-safe."""

    def __init__(self, cfg: ClientConfig, model: str, *, sleep=time.sleep, seed: int = 0,
                 clock=time.monotonic):
        self.cfg, self.model, self.sleep = cfg, model, sleep
        self.clients = [openai.OpenAI(
            base_url=url, api_key=cfg.api_key, timeout=cfg.timeout, max_retries=0,
            http_client=openai.DefaultHttpxClient(transport=Bounded(
                cfg.timeout, cfg.max_response_bytes))) for url in cfg.urls]
        self.client = self.clients[0]
        self.router = Router(len(self.clients), clock=clock)
        self.rng = random.Random(seed)
        self.logprobs = cfg.logprobs
        self._lock = threading.Lock()
        self.stats = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0, "retries": 0}

    def _count(self, **kw):
        with self._lock:
            for k, v in kw.items():
                self.stats[k] += v

    @property
    def constrains(self) -> bool:
        """Whether this server family can constrain a reply to given strings."""
        return family(self.cfg.family).choice is not None

    def complete(self, prompt, params: SamplingParams, n: int, seed: int,
                 top_logprobs: int = 0, choice: tuple[str, ...] = ()) -> list[Completion]:
        """``n`` completions of one prompt (text for completions, messages for chat), retried as
        the policy says; raises ``RemoteError`` when it fails for good. ``top_logprobs`` asks
        for the likeliest tokens' log p at each position too; ``choice`` constrains the reply
        to one of these strings where the server family offers it."""
        attempt = 0
        while True:
            start = time.perf_counter()
            at = self.router.acquire()
            health = False  # what this attempt says of the endpoint
            try:
                response = self._create(prompt, params, n, seed, top_logprobs, choice,
                                        self.clients[at])
                completions = [self._completion(c, time.perf_counter() - start,
                                                self.cfg.urls[at]) for c in _choices(response)]
                usage = getattr(response, "usage", None)
                self._count(requests=1, prompt_tokens=_tokens(usage, "prompt_tokens"),
                            completion_tokens=_tokens(usage, "completion_tokens"))
                health = True
                return completions
            except openai.APIStatusError as exc:
                status, headers = exc.status_code, exc.response.headers
                message = f"HTTP {status}: {str(exc)[:300]}"
                if not retryable(status):
                    health = None  # the request's fault, not the server's
                if status == 400 and self.logprobs and "logprob" in str(exc).lower():
                    self.logprobs = False  # the server does not offer logprobs: ask without
                    continue
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                cause = f" ({exc.__cause__})" if str(exc.__cause__ or "") else ""
                status, headers, message = None, None, f"{type(exc).__name__}: {exc}{cause}"
            except (openai.APIResponseValidationError, json.JSONDecodeError,
                    MalformedResponse) as exc:  # truncated, non-JSON or malformed bodies
                status, headers = None, None
                message = f"unreadable response ({type(exc).__name__}: {str(exc)[:200]})"
            finally:
                self.router.release(at, health)
            if len(self.clients) > 1:
                message = f"{self.cfg.urls[at]}: {message}"
            if not retryable(status) or attempt >= self.cfg.retry.max_retries:
                raise RemoteError(f"{message} (after {attempt + 1} attempts)", status)
            self._count(retries=1)
            if self.router.all_out():  # else another endpoint takes the retry now
                self.sleep(self.cfg.retry.delay(attempt, retry_after_seconds(headers), self.rng))
            attempt += 1

    def body(self, params: SamplingParams) -> dict:
        """The sampling fields of every request: OpenAI's, and those its server family reads
        (``servers.py``). Runs store exactly this."""
        fields = dict(temperature=params.temperature, top_p=params.top_p,
                      max_tokens=params.max_new_tokens)
        if params.stop:
            fields["stop"] = list(params.stop)[:4]
        return {**fields, **family(self.cfg.family).fields(params)}

    def _create(self, prompt, params: SamplingParams, n: int, seed: int, top_logprobs: int,
                choice: tuple[str, ...] = (), client=None):
        fields = self.body(params)
        constrain = family(self.cfg.family).choice
        if choice and constrain:
            fields.update(constrain(choice))
        common = {k: fields.pop(k) for k in ("temperature", "top_p", "max_tokens", "stop")
                  if k in fields}
        common.update(model=self.model, n=n, seed=seed, extra_body=fields or None)
        client = client or self.client
        if self.cfg.endpoint == "chat":
            if top_logprobs and self.logprobs:
                common["top_logprobs"] = top_logprobs
            return client.chat.completions.create(messages=prompt, logprobs=self.logprobs,
                                                  **common)
        return client.completions.create(
            prompt=prompt, logprobs=max(1, top_logprobs) if self.logprobs else None, **common)

    def _completion(self, choice, latency: float, url: str) -> Completion:
        try:
            if self.cfg.endpoint == "chat":
                text = choice.message.content or ""
                content = (choice.logprobs.content or []) if choice.logprobs else []
                lps = [t.logprob for t in content]
                tops = [{x.token: x.logprob for x in (t.top_logprobs or [])} for t in content]
            else:
                text = choice.text or ""
                lps, tops = _completion_logprobs(choice.logprobs)
        except AttributeError as exc:  # a field the server left out
            raise MalformedResponse(f"choice without {exc.name!r}") from None
        if not isinstance(text, str):
            raise MalformedResponse(f"choice text is {type(text).__name__}, not a string")
        lps = [lp for lp in lps if lp is not None]
        return Completion(text, len(lps) if lps else None, sum(lps) if lps else None,
                          "length" if choice.finish_reason == "length" else "stop", latency,
                          (), tuple(lps), tuple(tops), url)


def _completion_logprobs(logprobs) -> tuple[list, list]:
    """A /v1/completions choice's per-token log p and top alternatives, in OpenAI's layout
    (``token_logprobs``, ``top_logprobs``) or in the chat layout llama.cpp's server uses there
    too (``content``: a list of {token, logprob, top_logprobs})."""
    if not logprobs:
        return [], []
    if getattr(logprobs, "token_logprobs", None) is not None:
        return (list(logprobs.token_logprobs),
                [dict(t or {}) for t in (logprobs.top_logprobs or [])])
    content = getattr(logprobs, "content", None) or []

    def field(x, name):
        return x.get(name) if isinstance(x, dict) else getattr(x, name, None)
    return ([field(t, "logprob") for t in content],
            [{field(x, "token"): field(x, "logprob") for x in (field(t, "top_logprobs") or [])}
             for t in content])


def _choices(response) -> list:
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise MalformedResponse("the server answered with no choices")
    return choices
