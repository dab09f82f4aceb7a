"""SimpleQA (OpenAI's public CSV): short fact-seeking questions."""

from __future__ import annotations

from ..types import Question
from .base import HubSpec


def simpleqa(row: dict, i: int, split: str) -> Question:
    """The public CSV: ``metadata, problem, answer``."""
    return Question(f"simpleqa-{i:05d}", row["problem"].strip(), (row["answer"].strip(),),
                    "text")


SPEC = HubSpec("simpleqa", "openai/simple-evals", None, "test", None, simpleqa,
               csv_url="https://openaipublic.blob.core.windows.net/simple-evals/"
                       "simple_qa_test_set.csv")
