"""One lifecycle for every stage: a RUNNING row, its MLflow mirror, then FINISHED or FAILED in
both places.

``open_context`` opens the store for writing (after recovering stages whose process died, here
and in MLflow); ``stage`` wraps a stage's work once its RUNNING row is in. A stage that raises,
Ctrl-C and SIGTERM included, is FAILED with the error before the exception goes on; only a clean
exit is FINISHED. MLflow mirrors each change when it can (``tracking/mirror.py``); when it
cannot, the stage goes on and ``workbench mirror`` catches MLflow up later.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..store import Writer, ensure_free, require_store
from ..store.records import set_status
from ..store.recovery import Stale, find_stale, mark_failed
from ..tracking import Mirror, check_uri


@dataclass
class Context:
    """What a writing stage holds: the store's writer and the MLflow mirror."""

    writer: Writer
    mirror: Mirror
    recovered: tuple[Stale, ...] = ()  # stages found RUNNING with their process gone, now FAILED

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def artifacts(self) -> Path:
        return config.artifacts_dir(self.writer.path)


def check_writable(db_path: Path | None, mlflow_uri: str | None = None, *,
                   existing: bool = False) -> Path:
    """The store's path, after failing fast if another process holds it or the MLflow URI
    names a folder that does not exist. ``existing``: a stage that works on records already
    stored (grade, score, ablate, resume) refuses a path with no store, rather than creating
    an empty one at a mistyped --db and then failing."""
    path = config.db_path(db_path)
    if existing:
        require_store(path)
    ensure_free(path)
    _check_mlflow(path, mlflow_uri)
    return path


def _check_mlflow(path: Path, mlflow_uri: str | None) -> str:
    """The tracking URI, checked unless it is the default beside the store (whose folder the
    writer makes)."""
    uri = config.mlflow_uri(path, mlflow_uri)
    if uri != config.default_mlflow_uri(path):
        check_uri(uri)
    return uri


@contextmanager
def open_context(db_path: Path | None, mlflow_uri: str | None, log=None):
    """The store for writing, with dead stages marked FAILED (here and in MLflow)."""
    path = config.db_path(db_path)
    uri = _check_mlflow(path, mlflow_uri)
    with Writer(path) as writer:
        with writer.transaction() as con:
            stale = find_stale(con)
            mark_failed(con, stale)
        ctx = Context(writer, Mirror(uri, config.artifacts_dir(path), log), tuple(stale))
        for s in stale:
            ctx.mirror.sync(writer, s.table, s.item_id)
        yield ctx


def why_failed(exc: BaseException) -> str:
    """What a FAILED row says: a stop in words, anything else as the exception was raised."""
    if isinstance(exc, KeyboardInterrupt):
        return "stopped by Ctrl-C (SIGINT)"
    if isinstance(exc, SystemExit) and exc.code == 143:
        return "stopped by SIGTERM"
    return repr(exc)[:2000]


@contextmanager
def stage(ctx: Context, table: str, item_id: str):
    """Run a stage whose row (in ``table``) is RUNNING, mirrored as it starts and ends."""
    ctx.mirror.sync(ctx.writer, table, item_id)
    try:
        yield
        with ctx.writer.session() as con:
            set_status(con, table, item_id, "FINISHED")
    except BaseException as exc:
        with ctx.writer.session() as con:
            set_status(con, table, item_id, "FAILED", why_failed(exc))
        raise
    finally:
        ctx.mirror.sync(ctx.writer, table, item_id)


__all__ = ["Context", "check_writable", "open_context", "stage"]
