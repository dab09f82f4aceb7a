"""Extraction, normalisation, the map B and the deterministic judges: pure functions."""

import pytest

from tests.helpers import verdict
from workbench.errors import JudgeError
from workbench.grading.classes import assign_classes, class_key
from workbench.grading.extract import extract_answer
from workbench.grading.judges import get
from workbench.text import last_number, normalize_text, number_key, parse_number


@pytest.mark.parametrize("text,want", [
    ("Paris", "paris"), ("  The Paris. ", "paris"), ("São Tomé", "sao tome"),
    ("N'Djamena", "ndjamena"), ("Washington, D.C.", "washington dc"),
])
def test_normalize_text(text, want):
    assert normalize_text(text) == want


@pytest.mark.parametrize("text,want", [
    ("14", 14.0), ("1,234", 1234.0), ("-3.5", -3.5), ("3/4", 0.75), ("$12.", 12.0),
    ("12 apples", None), ("", None), ("abc", None), ("1/0", None),
])
def test_parse_number(text, want):
    assert parse_number(text) == want


def test_last_number_and_keys():
    assert last_number("3 + 4 = 7, so 7 apples") == 7.0
    assert last_number("no digits") is None
    assert number_key(14.0) == "14" and number_key(0.5) == "0.5"


@pytest.mark.parametrize("text,style,want", [
    (" Paris\n", "concise", "Paris"),
    (" Paris.", "concise", "Paris"),
    ("The answer is Paris.", "concise", "Paris"),
    ("Sure! Paris", "concise", "Paris"),
    ("The capital of France is Paris.", "concise", "Paris"),
    ("The capital of France is Paris, which is also its largest city.", "sentence", "Paris"),
    ("Ben has 14 apples.", "sentence", "14 apples"),
    ("It is **Canberra**, not Sydney.", "sentence", "Canberra"),
    ("3 + 4 = 7.\nAnswer: 7", "cot", "7"),
    # The first Answer line counts: base models write exemplar-like lines after answering.
    ("2 x 3 = 6.\nAnswer: 6.\nAnswer: 8", "cot", "6"),
    ("2 x 3 = 6.\nAnswer: 6.\nFinal answer: 8", "cot", "8"),
    ("First, 2+2=4. So the final answer is 4.", "cot", "4"),
    ("Step 1: think.\nParis", "cot", "Paris"),
    ("", "concise", ""),
])
def test_extract_answer(text, style, want):
    assert extract_answer(text, style) == want


def test_assign_classes_groups_by_meaning():
    ids, canonical, keys = assign_classes(
        ["Paris", "paris.", "The Paris", "Lyon", "", "Paris"], "text")
    assert ids == [0, 0, 0, 1, None, 0]
    assert canonical == {0: "Paris", 1: "Lyon"}
    assert keys == {0: ["paris"], 1: ["lyon"]}


def test_classes_never_join_different_things():
    answers = ["George Washington", "George Washington Carver", "Paris", "Paris Hilton", "New",
               "New York", "New Jersey", "Kuwait", "Kuwait City"]
    ids, _, _ = assign_classes(answers, "text")
    assert ids == list(range(len(answers)))  # nine answers, nine classes
    assert assign_classes(["1", "14"], "number")[0] == [0, 1]


def test_alias_groups_join_and_only_them():
    kyiv = (("Kyiv", "Kiev"),)
    assert assign_classes(["Kyiv", "kiev", "Lviv"], "text", kyiv)[0] == [0, 0, 1]
    bolivia = (("Sucre",), ("La Paz",))  # two accepted answers, not two spellings
    assert assign_classes(["Sucre", "La Paz"], "text", bolivia)[0] == [0, 1]
    dc = (("Washington, D.C.", "Washington", "Washington DC"),)
    ids, canonical, keys = assign_classes(["Washington", "Washington, D.C.", "Washington"],
                                          "text", dc)
    assert ids == [0, 0, 0] and canonical == {0: "Washington"}
    assert keys[0] == ["washington dc", "washington"]  # the group's key, then the member's


def test_numbers_class_by_value_and_words():
    ids, _, _ = assign_classes(["14", "14.0", "14 apples", "$14", "fourteen", "15"], "number")
    assert ids == [0, 0, 0, 0, 0, 1]
    assert class_key("three", "number") == class_key("3", "number") == "#3"
    assert class_key("three", "text") == "#3"  # a bare number word is a number anywhere
    assert class_key("three little pigs", "text") == "three little pigs"


def test_exact_judge_is_gold_through_the_same_map():
    judge = get("exact")
    dc = (("Washington, D.C.", "Washington"),)
    assert verdict(judge, "Washington", ("Washington, D.C.", "Washington"), "text",
                   groups=dc) is True
    assert verdict(judge, "paris.", ("Paris",), "text") is True
    assert verdict(judge, "Kyiv", ("Kyiv", "Kiev"), "text") is True
    assert verdict(judge, "Paris, France", ("Paris",), "text") is True  # a city, its country
    assert verdict(judge, "Paris Hilton", ("Paris",), "text") is False
    assert verdict(judge, "14.0", ("14",), "number") is True
    assert verdict(judge, "fourteen", ("14",), "number") is True
    assert verdict(judge, "15", ("14",), "number") is False
    # Judged by the class's key, never by any member: a class keyed "new" is not "New York".
    assert verdict(judge, "New", ("New York",), "text", keys=["new", "new york"]) is False


def test_contains_judge_matches_whole_words_only():
    judge = get("contains")
    assert verdict(judge, "in Paris", ("Paris",), "text") is True
    assert verdict(judge, "Parisian", ("Paris",), "text") is False
    assert verdict(judge, "in 14 days", ("14",), "number") is True  # numbers by value
    assert verdict(judge, "141", ("14",), "number") is False
    # an answer that only repeats the question's entity contains its gold by accident
    q = "What is the capital of Sao Tome and Principe?"
    assert verdict(judge, "Sao Tome and Principe", ("Sao Tome",), "text", question=q) is False
    assert verdict(judge, "Sao Tome", ("Sao Tome",), "text", question=q) is True  # exact
    assert verdict(judge, "the city of Sao Tome", ("Sao Tome",), "text", question=q) is True


def test_contains_number_judge_finds_the_gold_value_in_words():
    """The registry's third rule judge: one file, one line in RULES."""
    judge, exact = get("contains-number"), get("exact")
    # `exact` keys a number answer by its last number; this judge accepts any number in it.
    assert verdict(exact, "14 apples, then 15", ("14",), "number") is False
    assert verdict(judge, "14 apples, then 15", ("14",), "number") is True
    assert verdict(judge, "14.0 in all", ("14",), "number") is True
    assert verdict(judge, "141 apples", ("14",), "number") is False
    assert verdict(judge, "3/4 of it, not 1/2", ("0.75",), "number") is True
    assert verdict(judge, "in Paris", ("Paris",), "text") is False  # text: as `exact`


def test_unknown_judge_is_named():
    with pytest.raises(JudgeError, match="'gpt9'"):
        get("gpt9")
