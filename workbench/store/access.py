"""How the rest of the code holds the store: one ``Writer`` per writing command, or a reader.

A ``Writer`` holds the writer lock for the whole command but opens the DuckDB file only inside a
``session()`` (reading a stage's input, committing a chunk), under the exclusive access lock.
Between sessions it computes (samples, judges, resamples) with the file closed, so readers
(``workbench runs``, ``show``, ``sql``, the notebook API) see every committed chunk of a long run
while it writes. Opening the file costs a few milliseconds per session; the README gives the
measured figure.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb

from ..errors import StoreError
from .connection import create_views, migrate, open_duckdb, require_store
from .locks import WriterLock, access
from .records import transaction


def disk_full(path: Path, exc: Exception) -> StoreError | None:
    """A write that failed for want of space, as one line (a DuckDB traceback before); None
    for any other error. Chunks committed before it stay stored."""
    text = str(exc)
    if "No space left on device" not in text:
        return None
    return StoreError(f"{path}: the disk is full ({text.splitlines()[0][:200]}); what was "
                      "committed before stays; free space, then run the command again "
                      "(`workbench resume RUN` finishes a run)")


class Writer:
    """The store opened for writing (migrated at its first session); one per command."""

    def __init__(self, path: Path, *, migrations_dir=None, views_dir=None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._dirs = dict(migrations_dir=migrations_dir, views_dir=views_dir)
        self._lock = WriterLock(self.path).acquire()
        self._con = None
        self._migrated = False
        self.applied: list[int] = []  # migrations this writer applied

    @contextmanager
    def session(self):
        """The open file for the block (the same one when sessions nest)."""
        if self._con is not None:
            yield self._con
            return
        with access(self.path, exclusive=True):
            try:
                with self._open() as con:
                    yield con
            except duckdb.Error as exc:
                full = disk_full(self.path, exc)
                if full is None:
                    raise
                raise full from None

    @contextmanager
    def _open(self):
        con = open_duckdb(self.path, read_only=False, migrate_now=False)
        if not self._migrated:
            try:
                self.applied = migrate(con, self.path, self._dirs["migrations_dir"])
                create_views(con, self._dirs["views_dir"])
            except BaseException:
                con.close()
                raise
        self._migrated, self._con = True, con
        try:
            yield con
        finally:
            self._con = None
            con.close()

    @contextmanager
    def transaction(self):
        with self.session() as con, transaction(con):
            yield con

    def close(self) -> None:
        self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextmanager
def reader(path: Path, *, allow_pending: bool = False, wait: float | None = None):
    """A read-only connection with this code's views, for as long as the block runs; waits
    (bounded) while a writer commits."""
    path = Path(path)
    require_store(path)  # before any lock file is made beside it
    with access(path, exclusive=False, wait=wait):
        con = open_duckdb(path, read_only=True, allow_pending=allow_pending)
        try:
            yield con
        finally:
            con.close()


