"""TriviaQA (mandarjoshi/trivia_qa, rc.nocontext): trivia with answer aliases."""

from __future__ import annotations

from ..types import Question
from .base import HubSpec, dedupe


def triviaqa(row: dict, i: int, split: str) -> Question:
    """``answer`` = {value, aliases, normalized_value, normalized_aliases, ...}."""
    a = row["answer"]
    answers = dedupe([a["value"], *a.get("aliases", []), *a.get("normalized_aliases", [])])
    qid = row.get("question_id") or f"triviaqa-{split}-{i:06d}"
    return Question(str(qid), row["question"].strip(), answers, "text")


SPEC = HubSpec("triviaqa", "mandarjoshi/trivia_qa", "rc.nocontext", "validation", "train",
               triviaqa)
