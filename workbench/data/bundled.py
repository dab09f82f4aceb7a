"""The bundled datasets: 197 capitals written by the team, and seeded arithmetic word problems.

``BUNDLED`` is the registry: a new bundled set is a loader here (or a file beside it) and one
line in it. Each set also has two disjoint halves, ``bundled:NAME:train`` and
``bundled:NAME:test`` (``SPLITS``), cut by a hash of each question's id, so a question's side
never changes when questions are added; tuning (``workbench tune``) trains on one and the demo
asks the other.
"""

from __future__ import annotations

import hashlib
import json
import random
from importlib.resources import files

from ..errors import DatasetError
from .files import records_to_dataset
from .types import Dataset, Question


def capitals() -> Dataset:
    text = (files("workbench.data") / "capitals.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return records_to_dataset("bundled:capitals", "bundled:capitals", rows, "bundled")


_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas",
          "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara"]
_ITEMS = ["apples", "marbles", "stickers", "pencils", "books", "shells", "cards", "coins",
          "stamps", "cookies", "beads", "tickets"]


def arithmetic(n: int, seed: int = 0, n_fewshot: int = 8) -> Dataset:
    """Seeded word problems with exact integer answers: one or two steps of + - x.

    Each comes with a one-sentence answer and a worked rationale for exemplars.
    """
    rng = random.Random(seed)
    made = [_word_problem(rng, i) for i in range(n + n_fewshot)]
    return Dataset("bundled:arithmetic", f"generator:arithmetic(seed={seed})",
                   tuple(made[n_fewshot:]), tuple(made[:n_fewshot]))


def _word_problem(rng: random.Random, i: int) -> Question:
    """Mostly one-step problems with small numbers (so small models land between floor and
    ceiling), plus some two-step ones."""
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    kind = rng.choices(["add", "sub", "add_big", "mul", "add_sub", "mul_add"],
                       weights=[3, 3, 2, 2, 1, 1])[0]
    if kind in ("add", "add_big"):
        a, b = (rng.randint(1, 9), rng.randint(1, 9)) if kind == "add" else \
            (rng.randint(10, 40), rng.randint(1, 9))
        text = f"{name} has {a} {item} and finds {b} more. How many {item} does {name} have now?"
        steps, answer = [f"{a} + {b} = {a + b}"], a + b
    elif kind == "sub":
        b = rng.randint(1, 9)
        a = b + rng.randint(1, 9)
        text = f"{name} has {a} {item} and gives away {b}. How many {item} are left?"
        steps, answer = [f"{a} - {b} = {a - b}"], a - b
    elif kind == "mul":
        a, b = rng.randint(2, 5), rng.randint(2, 5)
        text = f"{name} has {a} boxes with {b} {item} in each box. How many {item} is that?"
        steps, answer = [f"{a} x {b} = {a * b}"], a * b
    elif kind == "add_sub":
        a, b = rng.randint(2, 9), rng.randint(1, 9)
        c = rng.randint(1, a + b - 1)
        text = (f"{name} has {a} {item}, buys {b} more, then loses {c}. "
                f"How many {item} does {name} have?")
        steps, answer = [f"{a} + {b} = {a + b}", f"{a + b} - {c} = {a + b - c}"], a + b - c
    else:
        a, b, c = rng.randint(2, 4), rng.randint(2, 5), rng.randint(1, 9)
        text = (f"{name} buys {a} bags of {b} {item} and already had {c}. "
                f"How many {item} does {name} have in total?")
        steps, answer = [f"{a} x {b} = {a * b}", f"{a * b} + {c} = {a * b + c}"], a * b + c
    rationale = " ".join(f"{s}." for s in steps)
    return Question(f"arith-{i:05d}", text, (str(answer),), "number",
                    f"{name} has {answer} {item}.", rationale)


SPLITS = ("train", "test")


def split(ds: Dataset, part: str) -> Dataset:
    """One half of a bundled set: a question is in ``train`` when the first byte of the SHA-256
    of its id is below 128, else in ``test``. The few-shot pool is shared (it is neither)."""
    if part not in SPLITS:
        raise DatasetError(f"dataset {ds.name}: unknown split {part!r}; bundled sets have "
                           f"{' and '.join(SPLITS)}")
    keep = tuple(q for q in ds.questions
                 if (hashlib.sha256(q.id.encode()).digest()[0] < 128) == (part == "train"))
    return Dataset(f"{ds.name}:{part}", ds.source, keep, ds.fewshot)


BUNDLED = {
    "capitals": capitals,
    "arithmetic": lambda: arithmetic(200, seed=0),
}
