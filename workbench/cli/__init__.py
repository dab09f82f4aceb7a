"""The ``workbench`` command: option parsing over ``workbench.api``, one module per group.

``generate.py`` (the stages), ``read.py`` (runs, show, sql, doctor), ``compare.py`` (diff,
compare, report), ``exchange.py`` (export, import), ``judges.py``, ``experiment.py``
(experiment run, status), ``serve.py`` (serve, ui, demo, check-server), ``tune.py`` (tune,
tunings); ``common.py`` holds what they share, ``app.py`` the order --help lists.
"""

from __future__ import annotations

import signal
import sys

# each module registers its commands
from . import compare, exchange, experiment, generate, judges, read, serve, tune  # noqa: F401
from .app import app

__all__ = ["app", "main"]


def main():  # pragma: no cover - the console script
    # A polite stop (SIGTERM) unwinds like Ctrl-C, so the stage is marked FAILED, not left RUNNING.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    app()
