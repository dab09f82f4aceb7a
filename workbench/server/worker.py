"""The one thread that samples, and the door to it: at most ``Limits.queue`` requests wait or
run (the next gets 429 with Retry-After); a request whose client leaves, or that runs past
``Limits.timeout`` seconds on the injected clock, is cancelled between two decode steps."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional

from fastapi import Request

from ..backends.base import SamplingParams
from ..backends.transformers.tokens import Cancelled, TokenSampler
from .protocol import APIError


@dataclass(frozen=True)
class Limits:
    max_body: int = 1 << 20  # bytes in a request body
    max_context: Optional[int] = None  # prompt + max_tokens; default: the model's context
    token_budget: int = 65536  # n × max_tokens in one request
    queue: int = 8  # requests waiting or running; more are refused with 429
    timeout: float = 120.0  # seconds a request may wait and run before it is cancelled


DEFAULT_LIMITS = Limits()


class Worker:
    """One thread samples; ``admit`` counts the requests waiting or running."""

    def __init__(self, sampler: TokenSampler, limits: Limits,
                 clock: Callable[[], float] = time.monotonic):
        self.sampler, self.limits, self.clock = sampler, limits, clock
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sampler")
        self.lock = threading.Lock()
        self.in_flight = 0
        self.seconds_per_job = 1.0  # a running average, for Retry-After

    def admit(self) -> None:
        with self.lock:
            if self.in_flight >= self.limits.queue:
                wait = max(1, round(self.in_flight * self.seconds_per_job))
                raise APIError(429, f"the server is busy ({self.in_flight} requests queued or "
                                    f"running); retry after {wait} s", "rate_limit_error",
                               code="server_busy", headers={"Retry-After": str(wait)})
            self.in_flight += 1

    def _done(self, seconds: float) -> None:
        with self.lock:
            self.in_flight -= 1
            self.seconds_per_job = 0.8 * self.seconds_per_job + 0.2 * seconds

    def deadline(self) -> float:
        """When a request that starts now must be done, on the worker's clock."""
        return self.clock() + self.limits.timeout

    async def run(self, request: Request, prompt_ids: list[int], params: SamplingParams,
                  top_logprobs: int = 0, deadline: float | None = None):
        """Sample on the worker; cancel it if the client leaves or time runs out (``deadline``:
        the request's, shared by its prompts; by default the limit from now)."""
        stop = threading.Event()
        deadline = self.deadline() if deadline is None else deadline

        def job():
            start = self.clock()
            try:
                return self.sampler.sample_batch([("request", prompt_ids)], params,
                                                 should_stop=stop.is_set,
                                                 top_logprobs=top_logprobs)[0]
            finally:
                self._done(self.clock() - start)
        future = asyncio.get_running_loop().run_in_executor(self.pool, job)
        while True:
            done, _ = await asyncio.wait({future}, timeout=0.1)
            if done:
                try:
                    return future.result()
                except Cancelled:
                    break
            if await request.is_disconnected() or self.clock() > deadline:
                stop.set()
        raise self.late()

    def late(self) -> APIError:
        return APIError(504, f"the request ran past the server's {self.limits.timeout:.0f} s "
                             "limit and was cancelled", "timeout_error", code="timeout")


