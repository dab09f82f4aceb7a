"""Which of a run's endpoints (replicas of one model on servers that share no router) a request
goes to: the one with the fewest requests in flight, ties taken in turn; an endpoint
whose request failed (no answer, a timeout, 429 or 5xx) is out for a back-off period that
doubles with each failure in a row (``base``, 2 × ``base``, ... up to ``cap`` seconds), then
tried again; its first success brings it back. When every endpoint is out, the one due back
first is tried (the caller waits its retry delay first). Pure: the clock is a parameter.

>>> t = [0.0]
>>> r = Router(2, clock=lambda: t[0])
>>> a = r.acquire(); b = r.acquire(); (a, b)  # fewest in flight
(0, 1)
>>> r.release(a, ok=False); r.release(b, ok=True); r.out(0)  # 0 failed: out for 1 s
True
>>> [r.acquire() for _ in range(2)]  # 1 twice, though it has more in flight
[1, 1]
>>> t[0] = 1.5; r.release(1, ok=True); r.release(1, ok=True); [r.acquire() for _ in range(3)]
[0, 1, 0]
"""

from __future__ import annotations

import threading
import time


class Router:
    def __init__(self, n: int, *, clock=time.monotonic, base: float = 1.0, cap: float = 60.0):
        self.clock, self.base, self.cap = clock, base, cap
        self.in_flight = [0] * n
        self.n, self.turn = n, 0  # ties: the first at or after ``turn``
        self.failures = [0] * n  # in a row
        self.back_at = [0.0] * n  # out until this time
        self._lock = threading.Lock()

    def out(self, i: int) -> bool:
        return self.back_at[i] > self.clock()

    def all_out(self) -> bool:
        with self._lock:
            return all(self.out(i) for i in range(self.n))

    def acquire(self) -> int:
        with self._lock:
            ready = [i for i in range(self.n) if not self.out(i)]
            if ready:
                i = min(ready, key=lambda j: (self.in_flight[j], (j - self.turn) % self.n))
            else:
                i = min(range(self.n), key=lambda j: (self.back_at[j], j))
            self.in_flight[i] += 1
            self.turn = (i + 1) % self.n
            return i

    def release(self, i: int, ok: bool | None) -> None:
        """``ok``: None when the answer says nothing of the endpoint's health (a 4xx)."""
        with self._lock:
            self.in_flight[i] -= 1
            if ok:
                self.failures[i], self.back_at[i] = 0, 0.0
            elif ok is False:
                self.failures[i] += 1
                delay = min(self.cap, self.base * 2 ** (self.failures[i] - 1))
                self.back_at[i] = self.clock() + delay
