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


_GRADINGS = "SELECT grading_id FROM gradings WHERE run_id = ?"
# What hangs off a run, children before parents: DuckDB refuses to delete a row whose children
# were deleted in the same transaction (its foreign-key limitation), so each level commits on
# its own, deepest first.
DELETE_LEVELS = (
    (("ablation_rows", f"ablation_id IN (SELECT ablation_id FROM ablations WHERE grading_id IN "
                       f"({_GRADINGS}))"),
     ("score_metrics", f"score_id IN (SELECT score_id FROM scores WHERE grading_id IN "
                       f"({_GRADINGS}))"),
     ("score_questions", f"score_id IN (SELECT score_id FROM scores WHERE grading_id IN "
                         f"({_GRADINGS}))")),
    tuple((t, f"grading_id IN ({_GRADINGS})") for t in
          ("ablations", "scores", "class_grades", "sample_classes", "grading_errors",
           "elicited")),
    tuple((t, "run_id = ?") for t in
          ("gradings", "samples", "prompts", "run_questions", "experiment_runs")),
    (("runs", "run_id = ?"),),
)


def dependents(con, run_id: str) -> dict[str, int]:
    """What a run's deletion would take with it: its gradings, scores and ablations."""
    (g, s, a), = con.execute(f"""
        SELECT (SELECT count(*) FROM gradings WHERE run_id = ?),
               (SELECT count(*) FROM scores WHERE grading_id IN ({_GRADINGS})),
               (SELECT count(*) FROM ablations WHERE grading_id IN ({_GRADINGS}))""",
                             [run_id, run_id, run_id]).fetchall()
    return {"gradings": g, "scores": s, "ablations": a}


def delete_level(con, level: tuple, run_id: str) -> None:
    for table, where in level:
        con.execute(f"DELETE FROM {table} WHERE {where}", [run_id])
