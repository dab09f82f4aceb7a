"""OpenMathInstruct-2 (nvidia/OpenMathInstruct-2): synthetic math problems; the first 50,000
rows of train_1M, streamed."""

from __future__ import annotations

from ..types import Question
from .base import HubSpec, one_line


def openmathinstruct2(row: dict, i: int, split: str) -> Question:
    """``problem, generated_solution, expected_answer, problem_source``."""
    return Question(f"omi2-{split}-{i:07d}", row["problem"].strip(),
                    (str(row["expected_answer"]).strip(),), "math", None,
                    one_line(row.get("generated_solution")))


SPEC = HubSpec("openmathinstruct2", "nvidia/OpenMathInstruct-2", None, "train_1M", None,
               openmathinstruct2, stream_limit=50000)
