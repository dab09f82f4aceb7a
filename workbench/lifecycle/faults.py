"""A fault hook for tests of crashes and live reads: ``WORKBENCH_FAULT`` makes a sampling stage
stop or pause at a chosen commit, so a test kills or watches a real process at a known point
instead of racing it (which depends on how fast the machine is).

- ``kill-after-chunk:N``: the process SIGKILLs itself right after its Nth committed chunk (over
  every run it samples), as a crash at that point would;
- ``pause-after-chunk``: after each committed chunk the process writes ``paused after chunk N``
  to standard error and reads one line from standard input before it goes on (end of input: it
  runs on without pausing).

Unset (every real use), it does nothing.
"""

from __future__ import annotations

import os
import signal
import sys

VARIABLE = "WORKBENCH_FAULT"


_committed = 0  # chunks this process committed, over every stage it ran (an experiment runs
# several)


def after_chunk() -> None:
    """Called by a stage after it committed a chunk."""
    global _committed
    _committed += 1
    fault = os.environ.get(VARIABLE, "")
    if fault.startswith("kill-after-chunk:") and _committed >= int(fault.split(":")[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    elif fault == "pause-after-chunk":
        print(f"paused after chunk {_committed}", file=sys.stderr, flush=True)
        sys.stdin.readline()
