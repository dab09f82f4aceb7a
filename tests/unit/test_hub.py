"""The paper's datasets: each mapping on small local files in the hub's format, the cache, the
few-shot pools, math answers by value, and a clear message without a network."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.helpers import gsm8k_rows, verdict, write_jsonl
from workbench import data as datasets
from workbench.data import hub
from workbench.errors import DatasetError
from workbench.grading.judges import get


def test_gsm8k_takes_the_number_after_hashes_and_a_train_pool(tmp_path):
    test = write_jsonl(tmp_path / "test.jsonl", gsm8k_rows(12, offset=500))
    train = write_jsonl(tmp_path / "train.jsonl", gsm8k_rows(30))
    ds = hub.load("gsm8k", files={"test": test, "train": train}, use_cache=False)
    assert ds.name == "gsm8k:test" and len(ds.questions) == 12
    q = ds.questions[0]
    assert q.answers == ("1002",) and q.answer_type == "number"  # "1,002" without the comma
    assert "<<" not in q.rationale and "= 1002 apples" in q.rationale
    assert len(ds.fewshot) == 20 and all(p.id.startswith("gsm8k-train-") for p in ds.fewshot)


def test_triviaqa_keeps_value_and_aliases_from_the_nested_answer(tmp_path):
    rows = [{"question": f"Which city is number {i}?", "question_id": f"tc_{i}",
             "question_source": "http://example.org", "entity_pages": {"title": []},
             "search_results": {"title": []},
             "answer": {"aliases": [f"City {i}", f"Town {i}", f"city {i}"],
                        "normalized_aliases": [f"city {i}", f"town {i}"],
                        "matched_wiki_entity_name": "", "normalized_matched_wiki_entity_name": "",
                        "normalized_value": f"city {i}", "type": "WikipediaEntity",
                        "value": f"City {i}"}} for i in range(30)]
    path = tmp_path / "validation.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)  # nesting survives as Arrow structs
    ds = hub.load("triviaqa", files={"validation": str(path)}, use_cache=False)
    q = next(q for q in ds.questions + ds.fewshot if q.id == "tc_3")
    assert q.answers == ("City 3", "Town 3")  # deduplicated, case-insensitively
    # No train file given: a seeded pool is held out of the asked split, never asked.
    assert len(ds.questions) + len(ds.fewshot) == 30
    assert not {q.id for q in ds.questions} & {q.id for q in ds.fewshot}


def test_simpleqa_from_its_csv(tmp_path):
    path = tmp_path / "simple_qa_test_set.csv"
    path.write_text("metadata,problem,answer\n" + "".join(
        f"\"{{'topic': 'Art'}}\",Who painted picture {i}?,Painter {i}\n" for i in range(10)))
    ds = hub.load("simpleqa", files={"test": str(path)}, use_cache=False)
    assert ds.questions[0].question == "Who painted picture 0?"
    assert {q.answers[0] for q in ds.questions + ds.fewshot} == {f"Painter {i}"
                                                                 for i in range(10)}


def test_math500_and_openmathinstruct2_answers_are_math(tmp_path):
    m500 = [{"problem": f"Compute {i}/4.", "solution": f"We get $\\boxed{{\\frac{{{i}}}{{4}}}}$.",
             "answer": f"\\frac{{{i}}}{{4}}", "subject": "Algebra", "level": 1,
             "unique_id": f"test/algebra/{i}.json"} for i in range(1, 11)]
    ds = hub.load("math500", files={"test": write_jsonl(tmp_path / "m.jsonl", m500)},
                  use_cache=False)
    q = next(q for q in ds.questions + ds.fewshot if q.id == "test/algebra/2.json")
    assert q.answers == ("\\frac{2}{4}",) and q.answer_type == "math"
    omi = [{"problem": f"What is {i} halves?", "generated_solution": f"It is \\boxed{{{i / 2}}}.",
            "expected_answer": str(i / 2), "problem_source": "augmented_math"} for i in range(10)]
    path = tmp_path / "omi.parquet"
    pq.write_table(pa.Table.from_pylist(omi), path)
    ds = hub.load("openmathinstruct2:train_1M", files={"train_1M": str(path)}, use_cache=False)
    assert {q.answer_type for q in ds.questions} == {"math"}


def test_truthfulqa_takes_best_and_correct_answers(tmp_path):
    rows = [{"type": "Adversarial", "category": "Misconceptions", "question": f"Q{i}?",
             "best_answer": f"Best {i}", "correct_answers": [f"Best {i}", f"Also {i}"],
             "incorrect_answers": [f"Wrong {i}"], "source": "x"} for i in range(10)]
    ds = hub.load("truthfulqa", files={"validation": write_jsonl(tmp_path / "t.jsonl", rows)},
                  use_cache=False)
    assert all(q.answers == (f"Best {q.question[1:-1]}", f"Also {q.question[1:-1]}")
               for q in ds.questions)


def test_spec_with_a_local_file_and_at_n(tmp_path):
    path = write_jsonl(tmp_path / "gsm.jsonl", gsm8k_rows(40))
    ds = datasets.load(f"gsm8k:test={path}@5")
    assert len(ds.questions) == 5 and ds.name == "gsm8k:test@5"
    again = datasets.load(f"gsm8k:test={path}@5")
    assert ds.content_hash == again.content_hash


def test_the_mapped_split_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    calls = []

    def counting(spec_, split, local):
        calls.append(split)
        return gsm8k_rows(25) if split == "train" else gsm8k_rows(8, offset=100)

    monkeypatch.setattr(hub, "_rows", counting)
    first = hub.load("gsm8k")
    second = hub.load("gsm8k")
    assert first == second and sorted(calls) == ["test", "train"]  # read once, then cached
    assert (hub.cache_dir() / "gsm8k-test.jsonl").exists()


def test_without_a_network_the_message_is_clear(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "WORKBENCH_CACHE": str(tmp_path / "wb")}
    code = ("from workbench import data\n"
            "try:\n    data.load('gsm8k@5')\n"
            "except data.DatasetError as e:\n    print(e)\n")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert "could not load gsm8k" in res.stdout and "offline" in res.stdout, res.stderr


def test_simpleqa_without_a_network(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    import dataclasses

    from workbench.data.formats import simpleqa

    monkeypatch.setattr(simpleqa, "SPEC", dataclasses.replace(
        simpleqa.SPEC, csv_url="http://127.0.0.1:9/none.csv"))
    with pytest.raises(DatasetError, match="could not fetch simpleqa.*offline"):
        hub.load("simpleqa")


def test_bad_rows_are_named(tmp_path):
    """A row whose gold cannot be extracted is left out; a split with none usable is refused,
    naming the row and the reason."""
    rows = gsm8k_rows(3) + [{"question": "no hashes", "answer": "just text"}]
    ds = hub.load("gsm8k", files={"test": write_jsonl(tmp_path / "g.jsonl", rows)}, use_cache=False)
    assert len(ds.questions) + len(ds.fewshot) == 3
    with pytest.raises(DatasetError, match="row 0.*####"):
        hub.load("gsm8k", files={"test": write_jsonl(tmp_path / "b.jsonl", rows[3:])},
                 use_cache=False)


@pytest.mark.parametrize("answer,gold,ok", [
    ("\\frac{1}{2}", "0.5", True), ("$\\dfrac{3}{4}$", "3/4", True), ("\\boxed{12}", "12", True),
    ("1,000", "1000", True), ("50\\%", "50", True), ("x^2+1", "x^2 + 1", True),
    ("\\frac{1}{3}", "0.33", False), ("7", "\\frac{14}{2}", True),
])
def test_math_answers_compare_by_value(answer, gold, ok):
    assert verdict(get("exact"), answer, (gold,), "math") is ok
