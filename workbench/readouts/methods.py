"""A score's methods paragraph from its rows in the store (``render/methods.py`` words it),
read by ``show`` and the HTML report; and whether the score is stale."""

from __future__ import annotations

from ..render.methods import methods
from ..store import queries


def score_methods(con, score_id: str) -> str:
    score = queries.one(con, "score", score_id)
    grading = queries.one(con, "grading", score["grading_id"])
    run = queries.one(con, "run", grading["run_id"])
    return methods(run, grading, score, queries.run_dataset_name(con, run["run_id"]))


def stale_note(con, score: dict) -> str | None:
    """Why a score is stale (its grading was revised in place after it), or None."""
    grading = queries.one(con, "grading", score["grading_id"])
    if not grading.get("revised_at") or grading["revised_at"] <= score["created_at"]:
        return None
    return (f"grading {grading['grading_id']} was revised at {grading['revised_at']}, after "
            f"this score: `workbench score {grading['grading_id']}` scores it again")
