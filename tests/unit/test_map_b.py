"""The map B, measured: the cases the measurement issue listed, and the labelled set's figures,
which must not drop below the committed ones (the README quotes them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.grading.classes import assign_classes, class_key
from workbench.grading.evaluate import score
from workbench.grading.extract import extract_answer

LABELLED = Path(__file__).parent.parent / "fixtures" / "mapb"
# Committed figures (2026-11-23, rules-v3). The previous map (rules-v2) scored 62.0% / 0.795 /
# 0.556 on the same files.
EXTRACTED = 252  # of 271 responses: 93.0%
WRONG_MERGES = 0  # merged pairs that do not mean the same: precision 59 / 59 = 1.000
MERGED_RIGHT = 59  # of the 63 pairs that mean the same: recall 0.937

AU, PRES, JAN = ("What is the capital of Australia?",
                 "Who was the first president of the United States?",
                 "Janet's ducks lay 16 eggs per day. She eats 3 and bakes with 4. She sells the "
                 "rest for $2 each. How much does she make?")


@pytest.mark.parametrize("text,style,question,finish,want", [
    ("Canberra is the capital of Australia.", "sentence", AU, "stop", "Canberra"),
    ("Sydney is the capital of Australia.", "sentence", AU, "stop", "Sydney"),
    ("George Washington was the first president.", "sentence", PRES, "stop",
     "George Washington"),
    ("Paris is the capital", "concise", "What is the capital of France?", "stop", "Paris"),
    ("<think>\nOkay, the user asks", "cot", AU, "length", ""),
    ("Janet sells 16 - 3 - 4 = 9 eggs, making 9 * 2 =", "cot", JAN, "length", ""),
])
def test_the_listed_extractions(text, style, question, finish, want):
    assert extract_answer(text, style, question, finish) == want


@pytest.mark.parametrize("answers,answer_type,classes", [
    (["George Washington", "George Washington Carver"], "text", 2),
    (["Paris", "Paris Hilton"], "text", 2),
    (["New", "New York", "New Jersey"], "text", 3),
    (["3", "three"], "number", 1),
])
def test_the_listed_classes(answers, answer_type, classes):
    ids, _, _ = assign_classes(answers, answer_type)
    assert len(set(ids)) == classes


def _load(name):
    return [json.loads(line) for line in (LABELLED / name).read_text().splitlines()]


def test_the_labelled_set_holds_its_figures():
    s = score(_load("responses.jsonl"), _load("pairs.jsonl"))
    print(f"\nextraction {s.extracted}/{s.responses} = {s.extraction_accuracy:.3f}; merges: "
          f"precision {s.precision:.3f}, recall {s.recall:.3f}")
    assert s.extracted >= EXTRACTED, s.extraction_misses
    assert s.merged_wrong <= WRONG_MERGES, s.merge_misses
    assert s.merged_right >= MERGED_RIGHT, s.merge_misses


def test_the_labelled_set_is_what_its_readme_says():
    responses, pairs = _load("responses.jsonl"), _load("pairs.jsonl")
    assert len(responses) == 271 and sum(r["source"] == "team" for r in responses) == 114
    assert {r["style"] for r in responses} == {"concise", "sentence", "cot"}
    assert len(pairs) == 211 and sum(p["same"] for p in pairs) == 63
    # a pair's answers really are aliases of one question when the set says so
    for p in pairs:
        if p.get("groups") and p["same"]:
            groups = tuple(tuple(g) for g in p["groups"])
            assert class_key(p["a"], "text", groups) == class_key(p["b"], "text", groups)
