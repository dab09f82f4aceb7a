"""Reads of one grading's verdicts: per class, per failed item, and two gradings' samples
paired where their verdicts differ (``judges compare``, a grading's retry)."""

from __future__ import annotations

from .queries import rows


def failed_extractions(con, grading_id: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT question_id FROM grading_errors "
                                      "WHERE grading_id = ?", [grading_id]).fetchall()]


def class_verdicts(con, grading_id: str) -> dict[tuple[str, str], dict]:
    """Per (question, class key) of a grading: its verdict, P(yes) and how it was reached."""
    return {(r["question_id"], r["class_key"]): r for r in rows(
        con, "SELECT question_id, class_key, correct, p_yes, verdict_method FROM class_grades "
             "WHERE grading_id = ?", [grading_id])}


def class_disagreements(con, grading_a: str, grading_b: str) -> list[dict]:
    """Where two gradings of one run give a sample different verdicts, per (question, class in
    A, class in B): the classes, their verdicts and how many samples they share. Samples are
    paired, not classes, so two judges whose maps B class the answers differently (an LLM
    extractor against the rules) are still compared answer by answer."""
    return rows(con, """
        SELECT a.question_id, a.class_key AS class_a, a.canonical AS answer_a,
               a.correct AS correct_a, b.class_key AS class_b, b.canonical AS answer_b,
               b.correct AS correct_b, count(*) AS samples
        FROM sample_grades a
        JOIN sample_grades b ON b.run_id = a.run_id AND b.question_id = a.question_id
                            AND b.sample_idx = a.sample_idx
        WHERE a.grading_id = ? AND b.grading_id = ? AND a.correct IS DISTINCT FROM b.correct
        GROUP BY ALL ORDER BY a.question_id, samples DESC, class_a, class_b""",
                [grading_a, grading_b])


def failed_verdicts(con, grading_id: str) -> list[dict]:
    return rows(con, "SELECT * FROM class_grades WHERE grading_id = ? AND "
                     "judge_error IS NOT NULL", [grading_id])
