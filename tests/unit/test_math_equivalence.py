"""Math answers by meaning (math-verify): classes by equivalence, verdicts against the gold by
the same check, the fast path for plain numbers kept, and answers that cannot be parsed or that
would take forever fall back to their string key."""

from __future__ import annotations

import pytest

from tests.helpers import verdict
from workbench.grading.classes import MAP_VERSION, assign_classes
from workbench.grading.judges.rules import ExactJudge


def same_class(a: str, b: str) -> bool:
    ids, _, _ = assign_classes([a, b], "math")
    return ids[0] == ids[1]


@pytest.mark.parametrize("a, b, same", [
    ("x^2+1", "1+x^2", True),  # the table: all "no" before
    (r"\sqrt{2}/2", r"\frac{\sqrt{2}}{2}", True),
    (r"\pi/2", r"\frac{\pi}{2}", True),
    (r"2\sqrt{3}", r"\sqrt{12}", True),
    (r"\frac{1}{2}", "0.5", True),  # the fast path, as before
    (r"[0,1)", r"[0, 1)", True),  # intervals
    (r"(0,1)", r"[0,1]", False),
    (r"\{1,2\}", r"\{2,1\}", True),  # sets
    (r"(1,2)", r"(2,1)", False),  # tuples keep their order
    (r"5\text{ cm}", "5", True),  # units
    (r"50\%", "50", True),  # percentages: by value, as a percent question's gold is written
    (r"\boxed{x+1}", "1+x", True),
    ("x^2+1", "x^2+2", False),
    (r"\sqrt{2}", "1.414", False),
])
def test_math_classes_by_meaning(a, b, same):
    assert same_class(a, b) is same


def test_the_gold_goes_through_the_same_check():
    judge = ExactJudge()
    assert verdict(judge, r"\frac{\sqrt{2}}{2}", [r"\sqrt{2}/2"], "math") is True
    assert verdict(judge, "1+x^2", ["x^2+1"], "math") is True
    assert verdict(judge, "x^2+2", ["x^2+1"], "math") is False
    assert judge.version == "5" and MAP_VERSION == "rules-v6"


@pytest.mark.timeout(600)  # a hang guard (each comparison is cut off after a second), not a speed
def test_unparseable_and_pathological_answers_fall_back_and_never_hang():
    ids, canonical, keys = assign_classes(["hello ??", "hello ??", "]]{{", ""], "math")
    assert ids == [0, 0, 1, None]
    ids, _, _ = assign_classes([r"9^{9^{9^{9}}}", r"9^{9^{9^{8}}}", "3"], "math")
    assert len(set(ids)) == 3
