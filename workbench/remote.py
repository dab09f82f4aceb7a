"""Sampling from any OpenAI-compatible server (vLLM, llama.cpp, `workbench serve`, OpenAI).

Completions for base models, chat for chat models; ``n`` samples per request where the server
gives them (falling back to separate requests), logprobs when offered, bounded concurrency, a
per-request timeout, and retries with exponential backoff and jitter that honour Retry-After on
429 and 5xx (and retry timeouts, dropped connections and garbled bodies), never other 4xx.
Prompt and completion tokens are counted from the servers' usage reports.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .sampler import Completion, SamplingParams, seed_for


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


class RemoteError(RuntimeError):
    """A request that failed for good; ``status`` is the last HTTP status (None: none)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RemoteConfig:
    base_url: str
    api_key: str
    endpoint: str  # chat | completions
    concurrency: int = 4
    timeout: float = 60.0
    retry: RetryPolicy = RetryPolicy()
    logprobs: bool = True


class RemoteSampler:
    def __init__(self, cfg: RemoteConfig, model: str, *, sleep=time.sleep, seed: int = 0):
        from openai import OpenAI

        if cfg.endpoint not in ("chat", "completions"):
            raise ValueError(f"--endpoint {cfg.endpoint!r}: use chat or completions")
        self.cfg, self.model, self.sleep = cfg, model, sleep
        self.client = OpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=cfg.timeout,
                             max_retries=0)
        self.rng = random.Random(seed)
        self.supports_n = True
        self.logprobs = cfg.logprobs
        self._lock = threading.Lock()
        self.stats = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0, "retries": 0}

    def _count(self, **kw):
        with self._lock:
            for k, v in kw.items():
                self.stats[k] += v

    def sample_prompts(self, items, params: SamplingParams):
        """M completions per (key, prompt); a question that fails for good gets its exception
        in place of its completions."""
        def one(item):
            try:
                return self._question(item[0], item[1], params)
            except RemoteError as exc:
                return exc
        with ThreadPoolExecutor(max(1, self.cfg.concurrency)) as pool:
            return list(pool.map(one, items))

    def _question(self, key: str, prompt, params: SamplingParams) -> list[Completion]:
        seed = seed_for(params.seed, key) & 0x7FFFFFFF
        if self.supports_n and params.n > 1:
            try:
                got = self._call(prompt, params, params.n, seed)
                if len(got) == params.n:
                    return got
            except RemoteError as exc:
                if exc.status not in (400, 422):
                    raise
            self.supports_n = False  # this server will not give n samples at once
        out = []
        for i in range(params.n):
            out += self._call(prompt, params, 1, (seed + i) & 0x7FFFFFFF)
        return out

    def _call(self, prompt, params: SamplingParams, n: int, seed: int) -> list[Completion]:
        import openai

        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                response = self._create(prompt, params, n, seed)
                choices = response.choices
                if not choices:
                    raise RemoteError("the server answered with no choices")
                completions = [self._completion(c, time.perf_counter() - start)
                               for c in choices]
                usage = getattr(response, "usage", None)
                self._count(requests=1,
                            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                            completion_tokens=getattr(usage, "completion_tokens", 0) or 0)
                return completions
            except openai.APIStatusError as exc:
                status, headers = exc.status_code, exc.response.headers
                message = f"HTTP {status}: {str(exc)[:300]}"
                if status == 400 and self.logprobs and "logprob" in str(exc).lower():
                    self.logprobs = False  # the server does not offer logprobs: ask without
                    continue
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                status, headers, message = None, None, f"{type(exc).__name__}: {exc}"
            except (openai.APIResponseValidationError, ValueError, AttributeError,
                    TypeError) as exc:  # truncated, non-JSON or malformed bodies
                status, headers = None, None
                message = f"unreadable response ({type(exc).__name__}: {str(exc)[:200]})"
            if not retryable(status) or attempt >= self.cfg.retry.max_retries:
                raise RemoteError(f"{message} (after {attempt + 1} attempts)", status)
            self._count(retries=1)
            self.sleep(self.cfg.retry.delay(attempt, retry_after_seconds(headers), self.rng))
            attempt += 1

    def _create(self, prompt, params: SamplingParams, n: int, seed: int):
        common = dict(model=self.model, n=n, temperature=params.temperature,
                      top_p=params.top_p, max_tokens=params.max_new_tokens, seed=seed)
        if params.stop:
            common["stop"] = list(params.stop)[:4]
        if self.cfg.endpoint == "chat":
            return self.client.chat.completions.create(messages=prompt, logprobs=self.logprobs,
                                                       **common)
        return self.client.completions.create(prompt=prompt,
                                              logprobs=1 if self.logprobs else None, **common)

    def _completion(self, choice, latency: float) -> Completion:
        if self.cfg.endpoint == "chat":
            text = choice.message.content or ""
            lps = [t.logprob for t in (choice.logprobs.content or [])] if choice.logprobs else []
        else:
            text = choice.text or ""
            lps = list(choice.logprobs.token_logprobs or []) if choice.logprobs else []
        lps = [lp for lp in lps if lp is not None]
        return Completion(text, len(lps) if lps else None, sum(lps) if lps else None,
                          "length" if choice.finish_reason == "length" else "stop", latency,
                          (), tuple(lps))
