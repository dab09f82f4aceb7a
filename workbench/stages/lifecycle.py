"""One lifecycle for every stage: a RUNNING row, its MLflow mirror, then FINISHED or FAILED in
both places.

``open_context`` opens the store for writing (after recovering stages whose process died, here
and in MLflow); ``stage`` wraps a stage's work once its RUNNING row is in. A stage that raises,
Ctrl-C and SIGTERM included, is FAILED with the error in DuckDB and in MLflow before the
exception goes on; only a clean exit is FINISHED.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..store import Writer, ensure_writable
from ..store.records import set_mlflow_run, set_status
from ..store.recovery import find_stale, mark_failed
from ..tracking import StageRun, Tracker


@dataclass
class Context:
    """What a writing stage holds: the store's writer and the MLflow mirror."""

    writer: Writer
    mlflow_uri: str

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def artifacts(self) -> Path:
        return config.artifacts_dir(self.writer.path)

    @property
    def tracker(self) -> Tracker:
        if not hasattr(self, "_tracker"):
            self._tracker = Tracker(self.mlflow_uri, self.artifacts)
        return self._tracker


def check_writable(db_path: Path | None) -> Path:
    """The store's path, after failing fast if another process holds it."""
    path = config.db_path(db_path)
    ensure_writable(path)
    return path


@contextmanager
def open_context(db_path: Path | None, mlflow_uri: str | None):
    """The store for writing, with dead stages marked FAILED (here and in MLflow)."""
    path = config.db_path(db_path)
    with Writer(path) as writer:
        ctx = Context(writer, config.mlflow_uri(path, mlflow_uri))
        with writer.transaction() as con:
            stale = find_stale(con)
            mark_failed(con, stale)
        dead = [s.mlflow_run_id for s in stale if s.mlflow_run_id]
        if dead:
            ctx.tracker.fail_runs(dead, "process died")
        yield ctx


@contextmanager
def stage(ctx: Context, table: str, item_id: str, *, experiment: str = "", run_name: str = "",
          params: dict | None = None, tags: dict | None = None,
          mlflow_run_id: str | None = None):
    """Run a stage whose row (in ``table``) is RUNNING: mirror it as a new MLflow run, or reopen
    ``mlflow_run_id`` when resuming; yields the MLflow handle for metrics and artifacts."""
    try:
        if mlflow_run_id:
            mirror = ctx.tracker.resume(mlflow_run_id)
        else:
            mirror = ctx.tracker.stage(experiment, run_name, params or {}, tags or {})
        with mirror as ml:
            if not mlflow_run_id:
                with ctx.writer.session() as con:
                    set_mlflow_run(con, table, item_id, ml.run_id)
            yield ml
        with ctx.writer.session() as con:
            set_status(con, table, item_id, "FINISHED")
    except BaseException as exc:
        with ctx.writer.session() as con:
            set_status(con, table, item_id, "FAILED", repr(exc)[:2000])
        raise


__all__ = ["Context", "StageRun", "check_writable", "open_context", "stage"]
