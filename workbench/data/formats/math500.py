"""MATH-500 (HuggingFaceH4/MATH-500): competition math with LaTeX answers."""

from __future__ import annotations

from ...text import boxed
from ..types import Question
from .base import HubSpec, one_line


def math500(row: dict, i: int, split: str) -> Question:
    """``problem, solution, answer, subject, level, unique_id``."""
    gold = str(row.get("answer") or boxed(row["solution"]) or "").strip()
    return Question(str(row.get("unique_id") or f"math500-{i:04d}"), row["problem"].strip(),
                    (gold,), "math", None, one_line(row.get("solution")))


SPEC = HubSpec("math500", "HuggingFaceH4/MATH-500", None, "test", None, math500)
