"""How two judges agree on the same stored answers."""

from __future__ import annotations


def kappa(a: list[bool], b: list[bool]) -> float:
    """Cohen's kappa of two binary raters; NaN when chance agreement is total.

    >>> kappa([True, True, False, False], [True, False, False, False])
    0.5
    """
    n = len(a)
    po = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return float("nan") if pe == 1 else (po - pe) / (1 - pe)
