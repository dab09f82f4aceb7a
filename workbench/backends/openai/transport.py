"""The HTTP transport every remote request goes through: a whole-response deadline and a size
cap. A per-read timeout alone lets a server that drip-feeds its body hold a run for ever (each
byte restarts the clock), and a body without a cap can fill memory; this transport counts from
the request's start and ends the response at ``total`` seconds or ``max_bytes`` bytes, as a
timeout (retried like one) or a read error naming the cap."""

from __future__ import annotations

import time
from typing import Callable

import httpx2

MAX_RESPONSE_BYTES = 64 << 20  # a completion with logprobs for n = 256 is a few MB


class Bounded(httpx2.BaseTransport):
    def __init__(self, total: float, max_bytes: int = MAX_RESPONSE_BYTES,
                 clock: Callable[[], float] = time.monotonic, inner=None):
        self.total, self.max_bytes, self.clock = total, max_bytes, clock
        self.inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request):
        deadline = self.clock() + self.total
        response = self.inner.handle_request(request)
        response.stream = _Stream(response.stream, self, deadline, request)
        return response

    def close(self) -> None:
        self.inner.close()


class _Stream(httpx2.SyncByteStream):
    def __init__(self, inner, limits: Bounded, deadline: float, request):
        self.inner, self.limits, self.deadline, self.request = inner, limits, deadline, request

    def __iter__(self):
        size = 0
        for chunk in self.inner:
            size += len(chunk)
            if self.limits.clock() > self.deadline:
                raise httpx2.ReadTimeout(f"no whole response within {self.limits.total:g} s "
                                         "(--timeout counts the whole request)",
                                         request=self.request)
            if size > self.limits.max_bytes:
                raise httpx2.ReadError(f"response larger than {self.limits.max_bytes:,} bytes",
                                       request=self.request)
            yield chunk

    def close(self) -> None:
        self.inner.close()
