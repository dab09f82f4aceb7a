"""A verdict from one token's probabilities (pure): P(yes) over the yes and no options.

A server that returns ``top_logprobs`` for the verdict token gives, per candidate token, its log
probability. Tokens are read after stripping spaces and case, so " Yes", "yes" and "YES" (and,
for character-level tokenizers, "y") count as yes. P(yes) = mass(yes) / (mass(yes) + mass(no));
the verdict is P(yes) ≥ threshold ("correct"/"incorrect" and "true"/"false" count too). When
yes and no together get less than ``min_mass``, the judge did not take up the question: no
verdict, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

YES = ("yes", "true", "correct")
NO = ("no", "false", "incorrect")


@dataclass(frozen=True)
class TokenVerdict:
    correct: bool | None
    p_yes: float | None
    mass: float
    error: str | None = None


def _side(token: str) -> str | None:
    """yes, no or neither; a lone "y" or "n" counts (character-level tokenizers)."""
    t = token.strip().lower()
    if t in YES or t == "y":
        return "yes"
    if t in NO or t == "n":
        return "no"
    return None


def from_top_logprobs(top: dict[str, float], threshold: float = 0.5,
                      min_mass: float = 0.2) -> TokenVerdict:
    """The verdict from one position's ``{token: logprob}``.

    >>> v = from_top_logprobs({" yes": math.log(0.6), " no": math.log(0.2), "The": -2.0})
    >>> (v.correct, round(v.p_yes, 3), round(v.mass, 3))
    (True, 0.75, 0.8)
    >>> from_top_logprobs({"The": -0.1}).error
    'the verdict token put 0.000 on yes and no together (< 0.2): no verdict'
    """
    mass = {"yes": 0.0, "no": 0.0}
    for token, lp in top.items():
        side = _side(token)
        if side and lp is not None:
            mass[side] += math.exp(lp)
    total = mass["yes"] + mass["no"]
    if total < min_mass:
        return TokenVerdict(None, None, total, f"the verdict token put {total:.3f} on yes and "
                                               f"no together (< {min_mass:g}): no verdict")
    p_yes = mass["yes"] / total
    return TokenVerdict(p_yes >= threshold, p_yes, total)
