"""A score's methods paragraph from its rows in the store (``render/methods.py`` words it):
read by ``show`` and the HTML report."""

from __future__ import annotations

from ..render.methods import methods
from ..store import queries


def score_methods(con, score_id: str) -> str:
    score = queries.one(con, "score", score_id)
    grading = queries.one(con, "grading", score["grading_id"])
    run = queries.one(con, "run", grading["run_id"])
    return methods(run, grading, score, queries.run_dataset_name(con, run["run_id"]))
