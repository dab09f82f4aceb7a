"""Math answers by meaning: two answers are one when Hugging Face's ``math-verify`` parses both
(LaTeX or plain expressions, into SymPy) and verifies them equal: ``x^2+1`` and ``1+x^2``,
``\\sqrt{2}/2`` and ``\\frac{\\sqrt{2}}{2}``, ``2\\sqrt{3}`` and ``\\sqrt{12}``, intervals, sets,
percentages and units as math-verify reads them.

Each parse and each comparison is cut off after ``TIMEOUT`` seconds (math-verify's own timeout;
a tower like ``9^{9^{9^9}}`` would otherwise run for minutes), so a pathological answer costs at
most that and is then compared by its string key, never hangs and never raises. Timeouts use
signals, so they apply on the main thread; elsewhere math-verify runs without them.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

TIMEOUT = 1  # seconds per parse and per comparison


def _timeout() -> int | None:
    return TIMEOUT if threading.current_thread() is threading.main_thread() else None


_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")  # a plain word, not a LaTeX command


def one_expression(answer: str) -> str | None:
    r"""The answer as one math expression (outer ``$`` dropped), or None when it is prose or
    several pieces ("2 $\sqrt{2}$ 4", "$(x-1)(x+1)$ when it"): math-verify would pick an
    expression out of those, which credits text that commits to nothing.

    >>> one_expression("$2\\sqrt{3}$"), one_expression(r"5\text{ cm}")
    ('2\\sqrt{3}', '5\\text{ cm}')
    >>> one_expression("$(x-1)(x+1)$ when it") is None
    True
    """
    text = answer.strip()
    if len(text) > 2 and text.startswith("$") and text.endswith("$"):
        text = text.strip("$").strip()
    inner = re.sub(r"\\text\{[^}]*\}", "", text)
    if not text or "$" in text or len(_WORD.findall(inner)) > 1:
        return None
    return text


@lru_cache(maxsize=1 << 14)
def parsed(answer: str):
    """math-verify's parse of an answer that is one expression, or None."""
    # math-verify imports SymPy (~0.4 s): only when math answers are grouped or judged.
    from math_verify import parse

    text = one_expression(answer)
    if text is None:
        return None
    text = f"${text}$"
    try:
        found = parse(text, parsing_timeout=_timeout())
    except Exception:  # noqa: BLE001 - an unparseable answer is compared by its key instead
        return None
    return found or None


@lru_cache(maxsize=1 << 16)
def equivalent(a: str, b: str) -> bool:
    """Whether two math answers verify equal (False when either does not parse)."""
    from math_verify import verify  # see parsed()

    pa, pb = parsed(a), parsed(b)
    if pa is None or pb is None:
        return False
    try:
        return bool(verify(pa, pb, timeout_seconds=_timeout()))
    except Exception:  # noqa: BLE001 - a comparison that fails is not an equivalence
        return False
