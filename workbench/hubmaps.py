"""Pure mappings from the paper's datasets, row by row in their hub format, to Questions.

Each mapper takes one row as the hub serves it (same columns and nesting) and its index, and
returns a Question; the gold answer is extracted the way each dataset writes it (GSM8K's
``#### n``, TriviaQA's aliases, MATH's answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .datasets import Question

_CALC = re.compile(r"<<[^>]*>>")


def _dedupe(values) -> tuple[str, ...]:
    seen, out = set(), []
    for v in values:
        v = str(v).strip()
        if v and v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return tuple(out)


def gsm8k(row: dict, i: int, split: str) -> Question:
    """``answer`` is a worked solution ending in ``#### 72``; calculator notes ``<<6*12=72>>``
    are dropped from the rationale."""
    solution = row["answer"]
    if "####" not in solution:
        raise ValueError(f"GSM8K row {i}: answer has no '#### n' line")
    reasoning, _, final = solution.rpartition("####")
    gold = final.strip().replace(",", "").rstrip(".")
    rationale = " ".join(_CALC.sub("", reasoning).split())
    return Question(f"gsm8k-{split}-{i:05d}", row["question"].strip(), (gold,), "number",
                    None, rationale or None)


def triviaqa(row: dict, i: int, split: str) -> Question:
    """``answer`` = {value, aliases, normalized_value, normalized_aliases, ...}."""
    a = row["answer"]
    answers = _dedupe([a["value"], *a.get("aliases", []), *a.get("normalized_aliases", [])])
    qid = row.get("question_id") or f"triviaqa-{split}-{i:06d}"
    return Question(str(qid), row["question"].strip(), answers, "text")


def simpleqa(row: dict, i: int, split: str) -> Question:
    """The public CSV: ``metadata, problem, answer``."""
    return Question(f"simpleqa-{i:05d}", row["problem"].strip(), (row["answer"].strip(),),
                    "text")


def openmathinstruct2(row: dict, i: int, split: str) -> Question:
    """``problem, generated_solution, expected_answer, problem_source``."""
    return Question(f"omi2-{split}-{i:07d}", row["problem"].strip(),
                    (str(row["expected_answer"]).strip(),), "math", None,
                    _strip_boxed_line(row.get("generated_solution")))


def math500(row: dict, i: int, split: str) -> Question:
    """``problem, solution, answer, subject, level, unique_id``."""
    gold = str(row.get("answer") or boxed(row["solution"]) or "").strip()
    return Question(str(row.get("unique_id") or f"math500-{i:04d}"), row["problem"].strip(),
                    (gold,), "math", None, _strip_boxed_line(row.get("solution")))


def truthfulqa(row: dict, i: int, split: str) -> Question:
    """``generation`` config: ``question, best_answer, correct_answers, incorrect_answers``."""
    answers = _dedupe([row["best_answer"], *row.get("correct_answers", [])])
    return Question(f"truthfulqa-{i:04d}", row["question"].strip(), answers, "text")


def boxed(text: str | None) -> str | None:
    r"""The content of the last ``\boxed{...}`` (braces balanced), or None.

    >>> boxed(r"so $x = \boxed{\frac{1}{2}}$.")
    '\\frac{1}{2}'
    """
    if not text:
        return None
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed{") - 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j].strip()
    return None


def _strip_boxed_line(solution: str | None) -> str | None:
    return " ".join(solution.split()) if solution else None


@dataclass(frozen=True)
class HubSpec:
    name: str
    path: str  # hub repository (or the CSV's address)
    config: str | None
    default_split: str
    fewshot_split: str | None  # None: hold out a seeded pool from the asked split
    mapper: Callable[[dict, int, str], Question]
    csv_url: str | None = None
    stream_limit: int | None = None  # huge splits: read only the first rows, streaming


SPECS = {s.name: s for s in [
    HubSpec("gsm8k", "openai/gsm8k", "main", "test", "train", gsm8k),
    HubSpec("triviaqa", "mandarjoshi/trivia_qa", "rc.nocontext", "validation", "train", triviaqa),
    HubSpec("simpleqa", "openai/simple-evals", None, "test", None, simpleqa,
            csv_url="https://openaipublic.blob.core.windows.net/simple-evals/"
                    "simple_qa_test_set.csv"),
    HubSpec("openmathinstruct2", "nvidia/OpenMathInstruct-2", None, "train_1M", None,
            openmathinstruct2, stream_limit=50000),
    HubSpec("math500", "HuggingFaceH4/MATH-500", None, "test", None, math500),
    HubSpec("truthfulqa", "truthfulqa/truthful_qa", "generation", "validation", None,
            truthfulqa),
]}
