"""What `workbench runs` lists, and runs put away (``archive``: migration 0020)."""

from __future__ import annotations

from .queries import rows

STATUSES = ("RUNNING", "FINISHED", "FAILED")


def list_runs(con, judge: str | None = None, status: str | None = None,
              archived: bool = False) -> list[dict]:
    """Every run, once per finished grading, with that grading's newest score's headline
    figures (the ``variants`` view); with ``judge``, that judge's gradings (and runs not
    graded yet); with ``status``, runs in that state; archived runs only when ``archived``."""
    return rows(con, """SELECT v.run_id, v.created_at, v.status, v.model, v.model_kind,
                               v.style, v.dataset, r.n_questions, v.samples_per_question,
                               p.stored_samples, v.judge, v.grading_id, v.accuracy, v.smece,
                               v.score_stale,
                               r.archived_at, r.archive_note
                        FROM variants v JOIN runs r USING (run_id)
                        JOIN run_progress p USING (run_id)
                        WHERE (? IS NULL OR v.judge = ? OR v.judge IS NULL)
                          AND (? IS NULL OR v.status = ?) AND (? OR r.archived_at IS NULL)
                        ORDER BY v.created_at, v.graded_at""",
                [judge, judge, status, status, archived])


def set_archived(con, run_id: str, archived: bool, note: str | None = None) -> None:
    con.execute("UPDATE runs SET archived_at = CASE WHEN ? THEN current_timestamp END, "
                "archive_note = CASE WHEN ? THEN ? END WHERE run_id = ?",
                [archived, archived, note, run_id])
