"""User files: .jsonl, .csv or .parquet with a question column and an answer (or answers)
column; malformed rows are listed by row number, and nothing runs until they are fixed or
skipped."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetError
from ..text import parse_number
from .types import ANSWER_TYPES, Dataset, Question, hold_out_pool

MAX_QUESTION_CHARS = 100_000  # far beyond any QA or math dataset's questions


def load_file(path: Path, *, skip_bad_rows: bool = False) -> Dataset:
    if not path.exists():
        raise DatasetError(f"dataset file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv", ".parquet"):
        raise DatasetError(f"dataset file {path}: unknown format {suffix!r} "
                           "(use .jsonl, .csv or .parquet)")
    try:
        rows = _read(path, suffix)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"dataset file {path}: not UTF-8 text (byte {exc.start}: "
                           f"{exc.reason}); a {suffix} dataset is UTF-8") from None
    except (OSError, csv.Error) as exc:
        raise DatasetError(f"dataset file {path}: cannot be read as {suffix} "
                           f"({getattr(exc, 'strerror', None) or exc})") from None
    return records_to_dataset(path.stem, str(path.resolve()), rows, str(path),
                              skip_bad_rows=skip_bad_rows)


def _read(path: Path, suffix: str) -> list:
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    if suffix == ".parquet":
        import pyarrow as pa  # 0.1 s with numpy: only when a Parquet file is read
        import pyarrow.parquet as pq  # (the same)

        try:
            return pq.read_table(path).to_pylist()
        except pa.ArrowException as exc:
            raise OSError(f"not a Parquet file: {str(exc).splitlines()[0]}") from None
    return _read_jsonl(path)


def _read_jsonl(path: Path) -> list:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
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


def records_to_dataset(name: str, source: str, rows: list, where: str, *,
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
    note = ""
    if not pool and len(test) >= 10:  # no `split: fewshot` rows: hold some out, as hub sets do
        test, pool = hold_out_pool(test)
        note = (f"{where}: no rows with split 'fewshot', so {len(pool)} seeded questions are "
                "held out as the few-shot pool (never asked)")
    return Dataset(name, source, tuple(test), tuple(pool), note)


def _parse_row(row, i: int) -> tuple[Question, str]:
    if isinstance(row, _BadRow):
        raise DatasetError(row.why)
    if not isinstance(row, dict):
        raise DatasetError("not an object with question and answer fields")
    question = row.get("question")
    if question is not None and not isinstance(question, str):
        raise DatasetError(f"'question' must be text, got {type(question).__name__} "
                           f"{question!r}")
    if not question or not question.strip():
        raise DatasetError("missing or empty 'question'")
    if len(question) > MAX_QUESTION_CHARS:
        raise DatasetError(f"'question' is {len(question):,} characters; at most "
                           f"{MAX_QUESTION_CHARS:,} (a prompt has to fit a model's context)")
    answers = _answers(row.get("answers", row.get("answer")))
    if not answers:
        raise DatasetError("missing gold answer ('answer' or 'answers')")
    answer_type = row.get("answer_type") or _guess_type(answers)
    if answer_type not in ANSWER_TYPES:
        raise DatasetError(f"answer_type {answer_type!r} not one of {ANSWER_TYPES}")
    qid = str(row.get("id") or row.get("question_id") or f"q{i:06d}")
    split = row.get("split") or "test"
    return Question(qid, question.strip(), answers, answer_type,
                    row.get("sentence") or None, row.get("rationale") or None,
                    _groups(row.get("groups"), answers)), split


def _groups(value, answers: tuple[str, ...]) -> tuple[tuple[str, ...], ...] | None:
    """Optional ``groups``: the gold answers split into groups of aliases, each answer in one."""
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise DatasetError("'groups' must be a list of lists of gold answers") from None
    if not isinstance(value, list) or not all(isinstance(g, list) and g for g in value):
        raise DatasetError("'groups' must be a list of non-empty lists of gold answers")
    groups = tuple(tuple(str(a).strip() for a in g) for g in value)
    listed = [a for g in groups for a in g]
    if sorted(listed) != sorted(answers):
        raise DatasetError("'groups' must hold each gold answer exactly once")
    return groups


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
    return "number" if all(parse_number(a) is not None for a in answers) else "text"


