"""Datasets: what a question is, where questions come from, and one ``load(spec)`` for all.

Sources, each in its own module:

- ``bundled:NAME[:train|test]`` — the sets shipped with the package (``bundled.py``, registry
  ``BUNDLED``), whole or one of two disjoint halves;
- ``gsm8k|triviaqa|…[:split]`` — the paper's datasets through the hub (``hub.py``, one module
  per format under ``formats/``), or ``NAME[:split]=FILE`` for a local copy in the hub's format;
- a path to a ``.jsonl``/``.csv``/``.parquet`` file (``files.py``).

``@N`` after any of them takes a seeded sample of N questions.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ..errors import DatasetError
from . import hub
from .bundled import BUNDLED
from .bundled import split as bundled_split
from .files import load_file
from .formats import FORMATS
from .types import ANSWER_TYPES, Dataset, Question

__all__ = ["load", "Dataset", "Question", "ANSWER_TYPES", "BUNDLED", "FORMATS", "DatasetError"]


def load(spec: str, *, skip_bad_rows: bool = False) -> Dataset:
    """``bundled:NAME[:train|test][@N]``, a hub dataset ``NAME[:split][@N]`` (or
    ``NAME[:split]=FILE`` for a local file in that dataset's hub format), or a path to a
    .jsonl/.csv/.parquet file."""
    base, n = split_count(spec)
    named, eq, path = base.partition("=")
    if eq and hub.is_hub_name(named):  # gsm8k[:split]=FILE: a local file in the hub's format
        name, _, split = named.partition(":")
        split = split or hub.formats.spec(name).default_split
        ds = hub.load(f"{name}:{split}", files={split: path})
    elif hub.is_hub_name(base):
        ds = hub.load(base)
    elif base.startswith("bundled:"):
        name, _, part = base.split(":", 1)[1].partition(":")
        if name not in BUNDLED:
            raise DatasetError(f"unknown bundled dataset {name!r}; known: {', '.join(BUNDLED)}"
                               + _suggest(base))
        ds = BUNDLED[name]()
        if part:
            ds = bundled_split(ds, part)
    else:
        if not Path(base).exists() and not Path(base).suffix:
            raise DatasetError(f"dataset {base!r} is not a file, a bundled set or a hub dataset"
                               + _suggest(base))
        ds = load_file(Path(base), skip_bad_rows=skip_bad_rows)
    return ds.head(n)


def check_spec(spec: str) -> None:
    """Refuse a dataset spec that names nothing, without reading it (a hub dataset may be
    fetched only where the hub is reachable)."""
    base, _ = split_count(spec)
    named = base.partition("=")[0]
    if hub.is_hub_name(named) or hub.is_hub_name(base):
        return
    if base.startswith("bundled:"):
        name = base.split(":", 2)[1]
        if name not in BUNDLED:
            raise DatasetError(f"unknown bundled dataset {name!r}; known: {', '.join(BUNDLED)}"
                               + _suggest(base))
        return
    if not Path(base).exists():
        raise DatasetError(f"dataset {base!r} is not a file, a bundled set or a hub dataset"
                           + _suggest(base))


def _suggest(name: str) -> str:
    """'; did you mean …?' with the close known names, or the list of them."""
    known = [*FORMATS, *(f"bundled:{b}" for b in BUNDLED),
             *(f"bundled:{b}:{p}" for b in BUNDLED for p in ("train", "test"))]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return f"; did you mean {' or '.join(close)}?"
    return f"; known: {', '.join(known[:len(FORMATS) + len(BUNDLED)])}"


def split_count(spec: str) -> tuple[str, int | None]:
    """``name@N`` → (name, N); no count → (spec, None)."""
    if "@" in spec:
        base, _, count = spec.rpartition("@")
        if count.isdigit():
            return base, int(count)
    return spec, None
