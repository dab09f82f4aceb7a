"""The confidences a model stated about its own answers (``elicited``, migration 0022): what
``stages/elicit.py`` writes and the score reads."""

from __future__ import annotations

from .queries import rows
from .records import insert_rows


def answers(con, grading_id: str) -> list[dict]:
    """Each question of a grading with its text and plurality answer (None: no answer)."""
    return rows(con, "SELECT question_id, question, answer FROM question_confidence "
                     "WHERE grading_id = ? ORDER BY question_id", [grading_id])


def replace(con, grading_id: str, measure: str, new_rows: list[dict]) -> None:
    """A (grading, measure)'s rows, asked anew (inside the caller's transaction)."""
    con.execute("DELETE FROM elicited WHERE grading_id = ? AND measure = ?",
                [grading_id, measure])
    insert_rows(con, "elicited", new_rows)


def confidences(con, grading_id: str, measure: str) -> dict[str, float | None]:
    """Per question asked, the confidence it stated (None: none it could be read as)."""
    return dict(con.execute("SELECT question_id, confidence FROM elicited WHERE grading_id = ? "
                            "AND measure = ? AND error IS NULL", [grading_id, measure]
                            ).fetchall())
