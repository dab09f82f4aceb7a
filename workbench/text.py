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


def normalize_text(text: str) -> str:
    """Lowercase, drop accents, punctuation, articles and extra spaces (SQuAD-style)."""
    text = strip_accents(text).lower().replace("'", "").replace("\u2019", "")
    text = _PUNCT.sub(" ", text)
    text = _ARTICLES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


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
    """
    words = re.findall(r"[a-z]+", text.lower().replace("-", " "))
    total = current = 0
    seen = False
    for w in words:
        if w in _UNITS or w in _TENS:
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
    return float(total + current) if seen else None


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
