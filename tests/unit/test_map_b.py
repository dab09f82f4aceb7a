"""The map B, measured: the cases the measurement issue listed, and the labelled set's figures,
which must not drop below the committed ones (the README quotes them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.grading.classes import assign_classes, class_key
from workbench.grading.evaluate import half, score
from workbench.grading.extract import extract_answer

LABELLED = Path(__file__).parent.parent / "fixtures" / "mapb"
# Committed figures (2026-11-23, rules-v3). The previous map (rules-v2) scored 62.0% / 0.795 /
# 0.556 on the same files.
EXTRACTED = 256  # of 271 responses: 94.5% (rules-v6; 252 = 93.0% with rules-v3 to v5)
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


SV, HAM, WALL, SPIDER = ("What is the capital of El Salvador?", "Who wrote Hamlet?",
                         "In which year did the Berlin Wall fall?",
                         "How many legs does a spider have?")


@pytest.mark.parametrize("text,style,question,want", [
    # negation and correction: the corrected answer
    ("Not Sydney, it's Canberra.", "concise", AU, "Canberra"),
    ("It isn't Sydney; it's Canberra.", "sentence", AU, "Canberra"),
    ("Many say Sydney, but the capital is actually Canberra.", "sentence", AU, "Canberra"),
    # "City, Country" keeps the city; a comma list commits to its first item
    ("Sydney, Australia", "concise", AU, "Sydney"),
    ("Bern, Zurich", "concise", "What is the capital of Switzerland?", "Bern"),
    ("Washington, D.C.", "concise", "What is the capital of the United States?",
     "Washington, D.C"),  # (its key: "washington dc", as the gold's)
    # the answer is not at the copula
    ("Hamlet is a play by William Shakespeare.", "sentence", HAM, "William Shakespeare"),
    ("In the United States.", "concise", "In which country is the Grand Canyon?",
     "the United States"),
    ("November 9, 1989", "concise", WALL, "1989"),
    ("Spiders have eight legs.", "sentence", SPIDER, "8"),
    # fractions and slashed names stay whole
    ("3/4", "concise", "What is half of 1.5?", "3/4"),
    ("AC/DC", "concise", "Which band recorded Back in Black?", "AC/DC"),
    ("60 km/h", "concise", "How fast was the car going?", "60 km/h"),
    # CoT: the concluding sentence; the answer line before a next exemplar; the line whole
    ("Let's think. Australia's government sits in Canberra. So the capital is Canberra.",
     "cot", AU, "Canberra"),
    ("12 + 5 = 17.\nThe answer is 17.\nQ: What is 3 + 4?\nA: 3 + 4 = 7. The answer is 7.",
     "cot", "What is 12 + 5?", "17"),
    ("El Salvador's capital is San Salvador.\nAnswer: San Salvador", "cot", SV,
     "San Salvador"),
    # a year question answered without a year gives none; inline HTML is not the answer
    ("Let me recall.\nAnswer: The end of World War II", "cot",
     "In which year did World War II end?", ""),
    ("<strong>Canberra</strong>", "concise", AU, "Canberra"),
    ("October 31<sup>st</sup>", "concise", WALL, "October 31st"),
])
def test_the_failure_classes_read_right(text, style, question, want):
    answer_type = "number" if question in ("What is 12 + 5?",) else "text"
    assert extract_answer(text, style, question, "stop", answer_type) == want


@pytest.mark.parametrize("text,style,question,finish,want", [
    # what no reader takes for an answer: a lone function word, a description
    ("When in doubt, ask a friend who painted it.", "cot", "Who painted the Mona Lisa?",
     "stop", ""),
    ("I'm ready.", "sentence", "What is the square root of 144?", "stop", ""),
    ("It is defined as the distance over which light travels in one second.", "sentence",
     "What is the speed of light?", "stop", ""),
    ("The capital of Palau is an island nation in the Pacific with famous reefs.", "sentence",
     "What is the capital of Palau?", "stop", ""),
    # a discourse lead-in; a fragment whole; a who-question keeps the name
    ("To be precise, Canberra is the capital of Australia", "concise", AU, "length",
     "Canberra"),
    ("Cosmic gas", "sentence", "Which gas do plants absorb from the air?", "stop", "Cosmic gas"),
    ("The leader then was probably Winston Churchill on board a ship in 1942.", "sentence",
     "Who was the British prime minister during World War II?", "stop", "Winston Churchill"),
    ("No, Maria Schizer composed the Fifth Symphony, as stated in", "concise",
     "Who composed the Fifth Symphony?", "length", "Maria Schizer"),
    ("Radium was discovered by Marie and Pierre Curie in 1898.", "sentence",
     "Who discovered radium?", "stop", "Marie and Pierre Curie"),
    # cut off once the answer is made: after the question said again, the answer ended
    ("The capital of Australia is Canberra, which is a", "concise", AU, "length", "Canberra"),
    ("The capital of Australia is Can", "concise", AU, "length", ""),
    ("The end of World War II was in 1945 in Europe and", "concise",
     "In which year did World War II end?", "length", "1945"),
    # an aside after a participle; a lead-in that only sets the question's scene
    ("Portuguese, spoken in the Brazilian style of", "concise",
     "What language is spoken in Brazil?", "length", "Portuguese"),
    ("In South America, the largest population is rooted in the vast", "concise",
     "Which country has the largest population in South America?", "length", ""),
    ("In Sydney, the famous opera house stands by the harbour.", "sentence",
     "In which city is the Sydney Opera House?", "stop", "Sydney"),
    # an aside between subject and verb; a number question answered without a number
    ("The speed of light (c) was measured as 299792 km per second.", "sentence",
     "What is the speed of light in km per second?", "stop", "299792 km per second"),
    ("x (the number of tickets)", "concise", "How many tickets does Kofi have?", "length", ""),
    # a "how many" question's answer line is read as a number in CoT too
    ("Step 1: count them.\nAnswer: 15 lions when you do it again", "cot",
     "How many legs does a spider have?", "stop", "15"),
])
def test_what_a_reader_takes_for_an_answer(text, style, question, finish, want):
    assert extract_answer(text, style, question, finish) == want


@pytest.mark.parametrize("a,b,answer_type,same", [
    ("negative seven", "-7", "number", True),
    ("negative seven", "7", "number", False),
    ("5 km", "5000 m", "number", True),  # convertible units merge
    ("5 km", "5 miles", "number", False),  # different units never
    ("100 °C", "100 °F", "text", False),
    ("A", "", "text", False),  # a bare A is an answer (blood type, a choice, a note)
    ("Vitamin A", "Vitamin", "text", False),
    ("U.S.A.", "USA", "text", True),
    ("U.S.A.", "U.S.", "text", False),
    ("President Lincoln", "Lincoln", "text", True),
    ("Dr. Martin Luther King Jr.", "Martin Luther King", "text", True),
    ("Miss Austen", "Austen", "text", True),
    # a word spaced or slashed; British and American spellings
    ("AC/DC", "ACDC", "text", True),
    ("J K Rowling", "JK Rowling", "text", True),
    ("F 16", "F16", "text", True),
    ("North Atlantic Treaty Organisation", "North Atlantic Treaty Organization", "text", True),
    ("Lincoln Centre", "Lincoln Center", "text", True),
    ("Niger", "Nigeria", "text", False),
])
def test_keys_keep_signs_units_and_letters_and_drop_titles(a, b, answer_type, same):
    assert (class_key(a, answer_type) == class_key(b, answer_type)) is same


@pytest.mark.parametrize("answers,answer_type,classes", [
    (["George Washington", "George Washington Carver"], "text", 2),
    (["Paris", "Paris Hilton"], "text", 2),
    (["New", "New York", "New Jersey"], "text", 3),
    (["3", "three"], "number", 1),
    # a bare number joins the one quantity written with it; beside two units it stays apart
    (["42", "42 km", "42"], "text", 1),
    (["100", "100 °C", "100 °F"], "text", 3),
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


CORPUS = LABELLED / "corpus"
# Committed figures on the corpus (2026-12-01, rules-v5), per half: the rules were fixed while
# reading the dev half's misses only; the test half was only ever scored, never read. Before this
# round (rules-v4) the same halves scored dev 257/410, 12/13, 12/32 and test 257/410, 15/17,
# 15/37.
# rules-v6 (2026-12-02), again fixed on dev misses only: extraction dev 326 → 354, test 294 →
# 311; merges dev 28 → 32 of 32, test 33 → 35 of 37 (2 wrong merges, as before).
HALVES = {"dev": dict(extracted=354, merged_right=32, merged_wrong=0),
          "test": dict(extracted=311, merged_right=35, merged_wrong=2)}


@pytest.mark.parametrize("which", HALVES)
def test_the_corpus_halves_hold_their_figures(which):
    responses = [r for r in _load("corpus/responses.jsonl") if half(r) == which]
    pairs = [p for p in _load("corpus/pairs.jsonl") if half(p) == which]
    s = score(responses, pairs)
    print(f"\n{which}: extraction {s.extracted}/{s.responses} = {s.extraction_accuracy:.3f}; "
          f"merges: precision {s.precision:.3f}, recall {s.recall:.3f} (form); world-knowledge "
          f"pairs joined {s.knowledge_merged}/{s.knowledge_pairs}")
    want = HALVES[which]
    assert s.extracted >= want["extracted"]
    assert s.merged_wrong <= want["merged_wrong"] and s.merged_right >= want["merged_right"]


def test_the_corpus_is_what_its_readme_says():
    responses, pairs = _load("corpus/responses.jsonl"), _load("corpus/pairs.jsonl")
    assert len(responses) == 820 and all(r["source"].startswith("sample:") for r in responses)
    assert {r["source"].split(":")[1] for r in responses} == {"gemma-3-270m",
                                                              "smollm2-135m-instruct"}
    assert {r["style"] for r in responses} == {"concise", "sentence", "cot"}
    assert len(pairs) == 444 and sum(p["same"] for p in pairs) == 138
    assert sum(p.get("kind") == "knowledge" for p in pairs) == 69
    assert [sum(half(r) == h for r in responses) for h in HALVES] == [410, 410]
    # the split is a fixed function of the text: a record never changes half
    assert half({"question": "What is the capital of Cuba?", "response": " Havana"}) == "test"
