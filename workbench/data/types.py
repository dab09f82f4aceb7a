"""What a dataset is: test questions with gold answers, and a few-shot pool.

The pool holds exemplars for base-model prompts, never the questions themselves. A dataset's id is
a hash of its content, so two runs on "the same" dataset can be checked to be the same questions.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field

from ..errors import DatasetError

ANSWER_TYPES = ("text", "number", "math")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    answer_type: str = "text"
    sentence: str | None = None  # a one-sentence answer, for `sentence` exemplars
    rationale: str | None = None  # reasoning, for `cot` exemplars
    # Which gold answers mean the same (aliases), when they are not all one thing: Bolivia's
    # Sucre and La Paz are two accepted answers, not two spellings. None: all one group.
    groups: tuple[tuple[str, ...], ...] | None = None

    def alias_groups(self) -> tuple[tuple[str, ...], ...]:
        """Gold answers in groups of aliases; the map B joins the answers within a group."""
        return self.groups if self.groups is not None else (self.answers,)

    def record(self) -> dict:
        """Its content, as hashed: a field left at its default is left out, so adding one
        keeps existing datasets' ids."""
        out = asdict(self)
        if self.groups is None:
            del out["groups"]
        return out


POOL = 20  # few-shot exemplars held out when a dataset has none of its own


def hold_out_pool(asked: list[Question]) -> tuple[list[Question], list[Question]]:
    """A seeded few-shot pool held out of the asked questions (never asked themselves): a fifth
    of them, at most ``POOL``. Returns (asked, pool)."""
    held = set(random.Random(0).sample(range(len(asked)), min(POOL, len(asked) // 5)))
    return ([q for i, q in enumerate(asked) if i not in held],
            [q for i, q in enumerate(asked) if i in held])


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str
    questions: tuple[Question, ...]
    fewshot: tuple[Question, ...] = field(default=())
    note: str = ""  # how the dataset was read, worth saying (not part of its content)

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [[q.record() for q in self.questions], [q.record() for q in self.fewshot]],
            sort_keys=True, ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def dataset_id(self) -> str:
        return "ds_" + self.content_hash[:16]

    def head(self, n: int | None, seed: int = 0) -> "Dataset":
        """A seeded sample of n questions (in their original order); all when n is None."""
        if n is None or n >= len(self.questions):
            return self
        if n <= 0:
            raise DatasetError(f"dataset {self.name}: asked for {n} questions; need at least 1")
        keep = sorted(random.Random(seed).sample(range(len(self.questions)), n))
        return Dataset(f"{self.name}@{n}", self.source,
                       tuple(self.questions[i] for i in keep), self.fewshot, self.note)

