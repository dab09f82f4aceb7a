"""Stages left RUNNING by a process that died are found and marked FAILED, here and in MLflow.

A writer holds the store's exclusive lock, and the lock dies with its process, so when a writer
opens the store no other live process can be in the middle of a stage: every RUNNING row it
finds belongs to a process that is gone (killed, crashed, out of memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import config, db, store

STAGE_TABLES = (("runs", "run_id"), ("gradings", "grading_id"), ("scores", "score_id"))


@dataclass(frozen=True)
class Stale:
    table: str
    item_id: str
    pid: int | None
    host: str | None
    mlflow_run_id: str | None

    @property
    def reason(self) -> str:
        who = f"PID {self.pid} on {self.host}" if self.pid else "its process"
        return f"left RUNNING: {who} is gone (killed or crashed)"


def find_stale(con) -> list[Stale]:
    found = []
    for table, key in STAGE_TABLES:
        for r in store.rows(con, f"SELECT {key} AS id, pid, host, mlflow_run_id FROM {table} "
                                 "WHERE status = 'RUNNING' ORDER BY created_at"):
            found.append(Stale(table, r["id"], r["pid"], r["host"], r["mlflow_run_id"]))
    return found


def mark_stale(con, stale: list[Stale], mlflow_uri: str | None) -> None:
    """FAILED in DuckDB (with the reason) and in MLflow."""
    key = dict(STAGE_TABLES)
    for s in stale:
        store.set_status(con, s.table, key[s.table], s.item_id, "FAILED", s.reason)
    ml_ids = [s.mlflow_run_id for s in stale if s.mlflow_run_id]
    if ml_ids and mlflow_uri:
        from .tracking import Tracker

        Tracker(mlflow_uri, config.artifacts_dir(con.path)).fail_runs(ml_ids, "process died")


def ensure_writable(db_path: Path | None) -> None:
    """Raise StoreError at once if another process holds the store."""
    from .lock import StoreBusy, ensure_free

    try:
        ensure_free(config.db_path(db_path))
    except StoreBusy as exc:
        raise db.StoreError(str(exc)) from None


def open_writer(db_path: Path | None, mlflow_uri: str | None):
    """The store for writing, with stale stages recovered; returns (connection, db path, uri)."""
    path = config.db_path(db_path)
    con = db.connect(path)
    try:
        uri = config.mlflow_uri(path, mlflow_uri)
        mark_stale(con, find_stale(con), uri)
    except BaseException:
        con.close()
        raise
    return con, path, uri
