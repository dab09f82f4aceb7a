"""Text and number keys, the bottom layer under data and grading (pure): normalisation,
number parsing and ``\\boxed{}``, for datasets, extraction, classes and judges.

>>> normalize_text("  The Paris. ")
'paris'
>>> parse_number("1,234.50")
1234.5
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_FRACTION = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")
_NUMBER_IN_TEXT = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?")


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_DOTTED = re.compile(r"\b[A-Za-z](?:\.\s?[A-Za-z]\b)+\.?")  # U.S.A., D.C, J. K.
_LETTER_A = re.compile(r"(?:(?<=\w )|^)A\b(?!\s+[a-z])")  # Vitamin A, Type A, "A" alone


def normalize_text(text: str) -> str:
    """Lowercase, drop accents, punctuation, articles and extra spaces (SQuAD-style). Dotted
    initials join ("U.S.A." is "usa", "J. K." is "jk") and a capital A that is a letter, not
    an article ("A", "Vitamin A", "Type A blood"), stays.

    >>> normalize_text("U.S.A."), normalize_text("Vitamin A"), normalize_text("A dog")
    ('usa', 'vitamin a', 'dog')
    """
    text = _DOTTED.sub(lambda m: re.sub(r"[.\s]", "", m.group(0)) + " ", text)
    text = _LETTER_A.sub("qxletteraqx", text)  # kept through the article rule
    text = strip_accents(text).lower().replace("'", "").replace("\u2019", "")
    text = _PUNCT.sub(" ", text)
    text = _ARTICLES.sub(" ", text).replace("qxletteraqx", "a")
    return _SPACES.sub(" ", text).strip()


def repeats_question(answer: str, question: str) -> bool:
    """Does the answer only say words of the question again ("Sao Tome and Principe" for its
    capital, "Bahrain" for Bahrain's)?

    >>> repeats_question("Bahrain", "What is the capital of Bahrain?")
    True
    >>> repeats_question("Manama", "What is the capital of Bahrain?")
    False
    """
    a = normalize_text(answer)
    return bool(a) and f" {a} " in f" {normalize_text(question)} "


def parse_number(text: str) -> float | None:
    """The value of a string that is just a number (commas, decimals, a fraction, a unit-less
    '$' or '%' sign allowed); None otherwise."""
    s = text.strip().rstrip(".").replace("$", "").replace("%", "").strip()
    if not s:
        return None
    frac = _FRACTION.match(s)
    if frac:
        den = int(frac.group(2))
        return float(Fraction(int(frac.group(1)), den)) if den else None
    if _NUMBER.match(s) and any(ch.isdigit() for ch in s):
        return float(s.replace(",", ""))
    return None


def numbers_in(text: str) -> list[str]:
    """Every number written in free text, as written (``3/4`` and ``1,200.5`` whole).

    >>> numbers_in("from 3/4 to 1,200.5 or -2")
    ['3/4', '1,200.5', '-2']
    """
    return _NUMBER_IN_TEXT.findall(text)


def last_number(text: str) -> float | None:
    """The value of the last number written in free text."""
    found = numbers_in(text)
    for candidate in reversed(found):
        value = parse_number(candidate)
        if value is not None:
            return value
    return None


_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty "
                                         "ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}


def word_number(text: str) -> float | None:
    """The value of a number written in words, alone or within text ("fourteen", "twenty-one",
    "one hundred and five apples"); None when there is none.

    >>> word_number("twenty-one"), word_number("He has fourteen apples."), word_number("none")
    (21.0, 14.0, None)
    >>> word_number("negative seven")
    -7.0
    """
    words = re.findall(r"[a-z]+", text.lower().replace("-", " "))
    total = current = 0
    seen = False
    sign = 1.0
    for i, w in enumerate(words):
        if w in ("negative", "minus") and not seen and i + 1 < len(words) and (
                words[i + 1] in _UNITS or words[i + 1] in _TENS):
            sign = -1.0
        elif w in _UNITS or w in _TENS:
            current += _UNITS.get(w, 0) + _TENS.get(w, 0)
            seen = True
        elif w in _SCALES and seen:
            if _SCALES[w] == 100:
                current *= 100
            else:
                total, current = total + current * _SCALES[w], 0
        elif w == "and" and seen:
            continue
        elif seen:
            break
    return sign * float(total + current) if seen else None


# Units a quantity keeps in its key: each to (the unit it is counted in, the factor), so a
# quantity in convertible units is one key (5 km is 5000 m) and different units never meet
# (°C and °F, km and miles). Counted things ("14 apples") and currencies are not units.
_UNIT_TABLE = {
    ("km", "kilometre", "kilometres", "kilometer", "kilometers"): ("m", 1000),
    ("m", "metre", "metres", "meter", "meters"): ("m", 1),
    ("cm", "centimetre", "centimetres", "centimeter", "centimeters"): ("m", 0.01),
    ("mm", "millimetre", "millimetres", "millimeter", "millimeters"): ("m", 0.001),
    ("kg", "kilogram", "kilograms"): ("g", 1000), ("g", "gram", "grams"): ("g", 1),
    ("mg", "milligram", "milligrams"): ("g", 0.001),
    ("l", "litre", "litres", "liter", "liters"): ("l", 1),
    ("ml", "millilitre", "millilitres", "milliliter", "milliliters"): ("l", 0.001),
    ("h", "hr", "hrs", "hour", "hours"): ("s", 3600),
    ("min", "mins", "minute", "minutes"): ("s", 60),
    ("s", "sec", "secs", "second", "seconds"): ("s", 1),
    ("°c", "celsius", "degrees celsius", "degrees c", "° c"): ("°c", 1),
    ("°f", "fahrenheit", "degrees fahrenheit", "degrees f", "° f"): ("°f", 1),
    ("k", "kelvin", "kelvins"): ("k", 1),
    ("mi", "mile", "miles"): ("mi", 1), ("ft", "foot", "feet"): ("ft", 1),
    ("lb", "lbs"): ("lb", 1), ("km/h", "kph"): ("km/h", 1), ("mph",): ("mph", 1),
    ("m/s",): ("m/s", 1),
}
_UNITS_BY_NAME = {name: unit for names, unit in _UNIT_TABLE.items() for name in names}
_QUANTITY = re.compile(
    r"([+-]?\d[\d,]*(?:\.\d+)?)\s*(" + "|".join(
        re.escape(n) for n in sorted(_UNITS_BY_NAME, key=len, reverse=True)) + r")(?![\w/])",
    re.IGNORECASE)


def quantity(text: str) -> tuple[float, str] | None:
    """The last number written with a unit, in the unit it is counted in.

    >>> quantity("5 km"), quantity("It boils at 100 °C."), quantity("14 apples")
    ((5000.0, 'm'), (100.0, '°c'), None)
    """
    found = _QUANTITY.findall(text)
    if not found:
        return None
    number, unit = found[-1]
    value = parse_number(number)
    if value is None:
        return None
    base, factor = _UNITS_BY_NAME[re.sub(r"\s+", " ", unit.lower())]
    return round(value * factor, 9), base


def number_key(value: float) -> str:
    """A canonical string for a numeric value: 14.0 -> '14', 0.5 -> '0.5'."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(round(value, 9))


_LATEX_FRAC = re.compile(r"^([+-]?)\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}$")
_LATEX_NOISE = re.compile(r"\\left|\\right|\\!|\\,|\\;|\\ |\$|\\text\{[^{}]*\}|\^\{?\\circ\}?")


def math_value(text: str) -> float | None:
    r"""The value of a math answer written as a number, a fraction or simple LaTeX.

    >>> math_value(r"\frac{3}{4}"), math_value(r"$-\dfrac{1}{2}$")
    (0.75, -0.5)
    >>> math_value("1,000"), math_value("50\\%")
    (1000.0, 50.0)
    >>> math_value(r"x^2 + 1") is None
    True
    """
    s = boxed(text) or text
    s = _LATEX_NOISE.sub("", s).replace("\\%", "").replace("%", "").replace(" ", "")
    s = s.strip().rstrip(".")
    frac = _LATEX_FRAC.match(s)
    if frac:
        num, den = parse_number(frac.group(2)), parse_number(frac.group(3))
        if num is None or not den:
            return None
        return (-1 if frac.group(1) == "-" else 1) * num / den
    value = parse_number(s)
    if value is None:
        try:
            value = float(s)  # 1e-3, 2.5E4
        except ValueError:
            return None
    return value


def math_key(text: str) -> str:
    """A canonical form for a math answer with no single value: LaTeX spacing and wrappers
    dropped, ``\\dfrac``/``\\tfrac`` as ``\\frac``."""
    s = _LATEX_NOISE.sub("", boxed(text) or text)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return "".join(s.split()).rstrip(".").lower()


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
