"""The ``workbench`` command: option parsing over ``workbench.api``, one module per group.

``generate.py`` (the stages), ``read.py`` (runs, show, sql, doctor), ``compare.py`` (diff,
compare, report), ``exchange.py`` (export, import), ``judges.py``, ``experiment.py``
(experiment run, status), ``serve.py`` (serve, ui, demo, check-server), ``tune.py`` (tune,
tunings); ``common.py`` holds what they share, ``app.py`` the order --help lists.
"""

from __future__ import annotations

import os
import signal
import sys

# each module registers its commands
from . import compare, exchange, experiment, generate, judges, read, serve, tune  # noqa: F401
from .app import app

__all__ = ["app", "main"]


_stopped_by: list[int] = []


def _stop(signum, frame):
    """A polite stop (SIGTERM) unwinds like Ctrl-C, so the stage is marked FAILED, not left
    RUNNING; both are remembered for ``main``."""
    _stopped_by.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    sys.exit(128 + signum)


def main():  # pragma: no cover - the console script
    signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when ignored
        signal.signal(signal.SIGINT, _stop)
    try:
        app()
    finally:
        if _stopped_by:  # unwound: leave without joining threads a remote call still holds
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(128 + _stopped_by[0])
