"""Questions: the bundled sets, a seeded arithmetic generator, and user files.

A dataset is a list of test questions plus a few-shot pool (exemplars for base-model prompts,
never the questions themselves). Its id is a hash of its content, so two runs on "the same"
dataset can be checked to be the same questions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

ANSWER_TYPES = ("text", "number", "math")


class DatasetError(ValueError):
    """A dataset that cannot be used; the message names the file and rows."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    answer_type: str = "text"
    sentence: str | None = None  # a one-sentence answer, for `sentence` exemplars
    rationale: str | None = None  # reasoning, for `cot` exemplars


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str
    questions: tuple[Question, ...]
    fewshot: tuple[Question, ...] = field(default=())

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [[asdict(q) for q in self.questions], [asdict(q) for q in self.fewshot]],
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
                       tuple(self.questions[i] for i in keep), self.fewshot)


BUNDLED = ("capitals", "arithmetic")


def load(spec: str, *, skip_bad_rows: bool = False) -> Dataset:
    """``bundled:NAME[@N]``, a hub dataset ``gsm8k|triviaqa|simpleqa|openmathinstruct2|math500|
    truthfulqa[:split][@N]`` (or ``NAME[:split]=FILE`` for a local file in that dataset's hub
    format), or a path to a .jsonl/.csv/.parquet file with question/answer columns; ``@N``
    takes a seeded sample of N."""
    from . import hub

    base, n = _split_count(spec)
    named, eq, path = base.partition("=")
    if eq and hub.is_hub_name(named):  # gsm8k[:split]=FILE: a local file in the hub's format
        split = named.partition(":")[2] or hub.SPECS[named.split(":")[0]].default_split
        ds = hub.load(f"{named.split(':')[0]}:{split}", files={split: path})
    elif hub.is_hub_name(base):
        ds = hub.load(base)
    elif base.startswith("bundled:"):
        name = base.split(":", 1)[1]
        if name == "capitals":
            ds = _load_bundled_jsonl("capitals")
        elif name == "arithmetic":
            ds = arithmetic(200, seed=0)
        else:
            raise DatasetError(f"unknown bundled dataset {name!r}; known: {', '.join(BUNDLED)}")
    else:
        ds = load_file(Path(base), skip_bad_rows=skip_bad_rows)
    return ds.head(n)


def _split_count(spec: str) -> tuple[str, int | None]:
    if "@" in spec:
        base, _, count = spec.rpartition("@")
        if count.isdigit():
            return base, int(count)
    return spec, None


def _load_bundled_jsonl(name: str) -> Dataset:
    text = (Path(__file__).parent / "data" / f"{name}.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return _from_records(f"bundled:{name}", f"bundled:{name}", rows, "bundled")


def load_file(path: Path, *, skip_bad_rows: bool = False) -> Dataset:
    if not path.exists():
        raise DatasetError(f"dataset file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows = _read_jsonl(path)
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    else:
        raise DatasetError(f"dataset file {path}: unknown format {suffix!r} "
                           "(use .jsonl, .csv or .parquet)")
    return _from_records(path.stem, str(path.resolve()), rows, str(path),
                         skip_bad_rows=skip_bad_rows)


def _read_jsonl(path: Path) -> list:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            rows.append(_BadRow(f"not valid JSON ({exc.msg})"))
    return rows


@dataclass
class _BadRow:
    why: str


def _from_records(name: str, source: str, rows: list, where: str, *,
                  skip_bad_rows: bool = False) -> Dataset:
    test, pool, bad = [], [], []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        try:
            q, split = _parse_row(row, i)
            if q.id in seen:
                raise DatasetError(f"duplicate id {q.id!r}")
            seen.add(q.id)
        except DatasetError as exc:
            bad.append((i, str(exc)))
            continue
        (pool if split == "fewshot" else test).append(q)
    if bad and not skip_bad_rows:
        listed = "; ".join(f"row {i}: {why}" for i, why in bad[:10])
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise DatasetError(f"{where}: {len(bad)} bad row(s): {listed}{more}. "
                           "Fix them or pass --skip-bad-rows to run the rest.")
    if not test:
        raise DatasetError(f"{where}: no questions to ask (empty dataset)")
    return Dataset(name, source, tuple(test), tuple(pool))


def _parse_row(row, i: int) -> tuple[Question, str]:
    if isinstance(row, _BadRow):
        raise DatasetError(row.why)
    if not isinstance(row, dict):
        raise DatasetError("not an object with question and answer fields")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError("missing or empty 'question'")
    answers = _answers(row.get("answers", row.get("answer")))
    if not answers:
        raise DatasetError("missing gold answer ('answer' or 'answers')")
    answer_type = row.get("answer_type") or _guess_type(answers)
    if answer_type not in ANSWER_TYPES:
        raise DatasetError(f"answer_type {answer_type!r} not one of {ANSWER_TYPES}")
    qid = str(row.get("id") or row.get("question_id") or f"q{i:06d}")
    split = row.get("split") or "test"
    return Question(qid, question.strip(), answers, answer_type,
                    row.get("sentence") or None, row.get("rationale") or None), split


def _answers(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):  # a list written into a CSV cell
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return (value,)
        else:
            return (value,) if value else ()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return ()


def _guess_type(answers: tuple[str, ...]) -> str:
    from .normalize import parse_number

    return "number" if all(parse_number(a) is not None for a in answers) else "text"


# --- the arithmetic generator --------------------------------------------------------------

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
