"""Runs put away: archived (hidden from `runs`, never resumed by `doctor`'s advice) or deleted
with what hangs off them. A RUNNING run is refused either way; neither makes a store."""

from __future__ import annotations

from pathlib import Path

from ..errors import StageError, UsageError
from ..store import Writer, queries, require_store
from ..store import runs as stored_runs
from .resolve import expand


def archive(path: Path, run_ids: list[str], note: str | None, undo: bool) -> list[str]:
    require_store(path)
    with Writer(path) as writer, writer.transaction() as con:
        full = _idle(con, run_ids)
        for run_id in full:
            stored_runs.set_archived(con, run_id, not undo, note)
    return full


def delete(path: Path, run_ids: list[str], with_dependents: bool) -> list[str]:
    """Each run is archived first, so a deletion cut short leaves it hidden, and deleting it
    again finishes. MLflow's copies and the score diagrams' files are left as they are."""
    require_store(path)
    with Writer(path) as writer:
        with writer.transaction() as con:
            full = _idle(con, run_ids)
            for run_id in full:
                held = {k: n for k, n in stored_runs.dependents(con, run_id).items() if n}
                if held and not with_dependents:
                    raise UsageError("with_dependents", f"run {run_id} has " + ", ".join(
                        f"{n} {k}" for k, n in held.items()) + "; delete them with it, or "
                        "archive the run instead")
            for run_id in full:
                stored_runs.set_archived(con, run_id, True, "deleting")
        for level in stored_runs.DELETE_LEVELS:
            with writer.transaction() as con:
                for run_id in full:
                    stored_runs.delete_level(con, level, run_id)
    return full


def _idle(con, run_ids: list[str]) -> list[str]:
    """The full ids, each checked not RUNNING."""
    full = [expand(con, r, ("runs",))[1] for r in run_ids]
    for run_id in full:
        if queries.one(con, "run", run_id)["status"] == "RUNNING":
            raise StageError(f"run {run_id} is RUNNING: stop it first (a dead one: "
                             "`workbench doctor --fix` marks it FAILED)")
    return full
