"""Stages left RUNNING by a process that died are found and marked FAILED.

A writer holds the store's exclusive lock, and the lock dies with its process, so when a writer
opens the store no other live process can be in the middle of a stage: every RUNNING row it
finds belongs to a process that is gone (killed, crashed, out of memory). The stage layer marks
their MLflow mirrors too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .queries import rows
from .records import set_status
from .tables import STAGES


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
    for table, t in STAGES.items():
        for r in rows(con, f"SELECT {t.key} AS id, pid, host, mlflow_run_id FROM {table} "
                           "WHERE status = 'RUNNING' ORDER BY created_at"):
            found.append(Stale(table, r["id"], r["pid"], r["host"], r["mlflow_run_id"]))
    return found


def mark_failed(con, stale: list[Stale]) -> None:
    """FAILED in DuckDB, with the reason."""
    for s in stale:
        set_status(con, s.table, s.item_id, "FAILED", s.reason)
