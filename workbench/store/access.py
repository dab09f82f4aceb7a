"""How the rest of the code holds the store: one ``Writer`` per writing command, or a reader.

Stages read their inputs in a ``session()`` and commit each unit of work (a chunk of samples, a
grading's rows) in a ``transaction()``; between those they compute (sample, judge, resample)
holding nothing but the writer's claim on the store.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreBusy, StoreError
from .connection import connect
from .locks import ensure_free
from .records import transaction


class Writer:
    """The store opened for writing (migrated); one per command, closed when it ends."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._con = connect(self.path)

    @contextmanager
    def session(self):
        yield self._con

    @contextmanager
    def transaction(self):
        with self.session() as con, transaction(con):
            yield con

    def close(self) -> None:
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextmanager
def reader(path: Path, *, allow_pending: bool = False):
    """A read-only connection with this code's views, for as long as the block runs."""
    con = connect(Path(path), read_only=True, allow_pending=allow_pending)
    try:
        yield con
    finally:
        con.close()


def ensure_writable(path: Path) -> None:
    """Fail now if another process holds the store; holds nothing and creates nothing. Stages
    call this before loading models, so a busy store is reported in well under a second."""
    try:
        ensure_free(Path(path))
    except StoreBusy as exc:
        raise StoreError(str(exc)) from None
