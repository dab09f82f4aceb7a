"""Pure text normalisation and number parsing used by extraction, classes and judges.

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


def last_number(text: str) -> float | None:
    """The value of the last number written in free text."""
    found = _NUMBER_IN_TEXT.findall(text)
    for candidate in reversed(found):
        value = parse_number(candidate)
        if value is not None:
            return value
    return None


def number_key(value: float) -> str:
    """A canonical string for a numeric value: 14.0 -> '14', 0.5 -> '0.5'."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(round(value, 9))
