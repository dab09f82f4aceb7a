"""TruthfulQA (truthfulqa/truthful_qa, generation): questions that invite common
misconceptions."""

from __future__ import annotations

from ..types import Question
from .base import HubSpec, dedupe


def truthfulqa(row: dict, i: int, split: str) -> Question:
    """``generation`` config: ``question, best_answer, correct_answers, incorrect_answers``."""
    answers = dedupe([row["best_answer"], *row.get("correct_answers", [])])
    return Question(f"truthfulqa-{i:04d}", row["question"].strip(), answers, "text")


SPEC = HubSpec("truthfulqa", "truthfulqa/truthful_qa", "generation", "validation", None,
               truthfulqa)
