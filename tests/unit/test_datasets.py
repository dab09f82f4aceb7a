"""Bundled sets, the arithmetic generator, user files and their errors, prompts."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench import data as datasets
from workbench import prompts
from workbench.data.bundled import arithmetic
from workbench.errors import DatasetError, UsageError


def test_bundled_capitals_has_aliases_and_a_disjoint_fewshot_pool():
    ds = datasets.load("bundled:capitals")
    assert len(ds.questions) >= 150
    assert any(len(q.answers) > 1 for q in ds.questions)
    assert len(ds.fewshot) >= 5
    assert not {q.id for q in ds.fewshot} & {q.id for q in ds.questions}
    assert len({q.id for q in ds.questions}) == len(ds.questions)


def test_arithmetic_generator_is_seeded_and_its_answers_are_right():
    a, b = arithmetic(50, seed=3), arithmetic(50, seed=3)
    assert a.questions == b.questions and a.content_hash == b.content_hash
    assert arithmetic(50, seed=4).questions != a.questions
    for q in a.questions + a.fewshot:
        assert q.answer_type == "number"
        # The worked rationale's last step computes the gold answer.
        expr, result = q.rationale.rstrip(".").split(". ")[-1].split(" = ")
        assert int(eval(expr.replace("x", "*"))) == int(result) == int(q.answers[0])


def test_at_n_takes_a_seeded_subset():
    full = datasets.load("bundled:capitals")
    sub = datasets.load("bundled:capitals@20")
    assert len(sub.questions) == 20 and sub.name == "bundled:capitals@20"
    assert sub.questions == datasets.load("bundled:capitals@20").questions
    assert set(sub.questions) <= set(full.questions)
    assert sub.fewshot == full.fewshot


def test_jsonl_csv_parquet_load_the_same_questions(tmp_path):
    rows = [{"question": "Capital of Peru?", "answer": ["Lima"]},
            {"question": "2+3?", "answer": "5"}]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "d.csv").write_text('question,answer\nCapital of Peru?,"[""Lima""]"\n2+3?,5\n')
    # Parquet columns hold one type: answers as a list column.
    pq.write_table(pa.Table.from_pylist([{**r, "answer": list(r["answer"]) if isinstance(
        r["answer"], list) else [r["answer"]]} for r in rows]), tmp_path / "d.parquet")
    loaded = [datasets.load(str(tmp_path / f"d.{ext}")) for ext in ("jsonl", "csv", "parquet")]
    for ds in loaded:
        assert [q.answers for q in ds.questions] == [("Lima",), ("5",)]
        assert [q.answer_type for q in ds.questions] == ["text", "number"]
    assert loaded[0].content_hash == loaded[1].content_hash == loaded[2].content_hash


def test_bad_rows_are_named_and_can_be_skipped(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "ok?", "answer": "yes"}\n'
                    '{"question": "no gold"}\n'
                    'not json\n'
                    '{"question": "", "answer": "x"}\n'
                    + json.dumps({"question": "x" * 1_000_000, "answer": "y"}) + "\n")
    with pytest.raises(DatasetError) as info:
        datasets.load(str(path))
    msg = str(info.value)
    assert "bad.jsonl" in msg and "row 2" in msg and "row 3" in msg and "row 4" in msg
    assert "row 5" in msg and "1,000,000 characters" in msg  # a 1 MB question
    assert "--skip-bad-rows" in msg
    ds = datasets.load(str(path), skip_bad_rows=True)
    assert [q.question for q in ds.questions] == ["ok?"]


@pytest.mark.parametrize("content,match", [
    ("", "empty"), ('{"question": "q?", "answer": "a", "split": "fewshot"}\n', "empty"),
])
def test_empty_datasets_are_refused(tmp_path, content, match):
    path = tmp_path / "e.jsonl"
    path.write_text(content)
    with pytest.raises(DatasetError, match=match):
        datasets.load(str(path))


@pytest.mark.parametrize("name, content, match", [
    ("b.jsonl", b"\x00\xdb\xff" * 100, "not UTF-8 text"),
    ("b.csv", b"\xff\xfe\x00\x01", "not UTF-8 text"),
    ("b.parquet", b"PAR1 but not really", "not a Parquet file"),
    ("dir.jsonl", None, "cannot be read"),
])
def test_binary_or_odd_files_are_one_line_naming_the_file(tmp_path, name, content, match):
    """They were tracebacks (UnicodeDecodeError, ArrowInvalid, IsADirectoryError)."""
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(DatasetError, match=match) as caught:
        datasets.load(str(path))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_missing_file_and_unknown_bundled_name(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        datasets.load(str(tmp_path / "nope.jsonl"))
    with pytest.raises(DatasetError, match="unknown bundled"):
        datasets.load("bundled:nope")


def test_fewshot_prompt_never_contains_the_question():
    ds = datasets.load("bundled:capitals")
    plan = prompts.PromptPlan("concise", "completion", 5)
    for q in ds.questions[:40]:
        p = prompts.build_prompt(plan, ds, q)
        assert p.endswith(f"Q: {q.question}\nA:")
        assert p.count(q.question) == 1
        assert p.count("\nA: ") == 5


def test_cot_prompt_shows_reasoning_then_answer_line():
    ds = arithmetic(20, seed=0)
    p = prompts.build_prompt(prompts.PromptPlan("cot", "completion", 2), ds, ds.questions[0])
    first = p.split("\n\n")[0]
    assert " = " in first and "\nAnswer: " in first
    assert prompts.PromptPlan("cot", "completion", 2).stop == ("\n\n", "\nQ:")


def test_bad_plan_values():
    with pytest.raises(UsageError, match="style"):
        prompts.PromptPlan("poem", "completion", 5)
    ds = datasets.load("bundled:capitals")
    with pytest.raises(UsageError, match="few-shot exemplars"):
        prompts.exemplars(ds, ds.questions[0], 500, 0)


def test_a_file_without_fewshot_rows_holds_out_a_seeded_pool(tmp_path):
    """As hub sets do: a fifth of the questions (at most 20), seeded, never asked; said in a
    note. A file too small for that keeps every question and the shots check says why."""
    from tests.helpers import write_jsonl

    data = datasets
    rows = [{"id": f"q{i}", "question": f"What is {i} plus 1?", "answer": str(i + 1)}
            for i in range(30)]
    ds = data.load(str(write_jsonl(tmp_path / "plain.jsonl", rows)))
    assert (len(ds.questions), len(ds.fewshot)) == (24, 6)
    assert not {q.id for q in ds.questions} & {q.id for q in ds.fewshot}
    assert "6 seeded questions are held out as the few-shot pool" in ds.note
    prompts.check_pool(ds, 5)
    again = data.load(str(tmp_path / "plain.jsonl"))
    assert [q.id for q in again.fewshot] == [q.id for q in ds.fewshot]
    small = data.load(str(write_jsonl(tmp_path / "small.jsonl", rows[:5])))
    assert (len(small.questions), len(small.fewshot), small.note) == (5, 0, "")
    with pytest.raises(UsageError, match="shots"):
        prompts.check_pool(small, 5)
