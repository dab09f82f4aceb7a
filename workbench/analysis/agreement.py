"""How two judges agree on the same stored answers."""

from __future__ import annotations

import numpy as np

from .metrics.ranking import auroc
from .metrics.smooth import smece


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


def probability_agreement(a: list[dict], b: list[dict]) -> dict:
    """Class-level comparison of two judges' verdicts (rows with ``correct``, ``p_yes`` and
    ``verdict_method``, paired): verdict agreement; the mean |P(yes) A − P(yes) B| where both
    gave one; and, when one side is a rule judge and the other gave P(yes), how calibrated that
    P(yes) is against the rule's verdicts (Brier score and smooth ECE) and how well it ranks
    them (AUROC: 0.5 is chance, whatever the threshold)."""
    both = [(x, y) for x, y in zip(a, b) if x["correct"] is not None and y["correct"] is not None]
    out = {"n_classes": len(both),
           "class_agreement": (sum(x["correct"] == y["correct"] for x, y in both) / len(both)
                               if both else None)}
    probs = [(x["p_yes"], y["p_yes"]) for x, y in both
             if x["p_yes"] is not None and y["p_yes"] is not None]
    out["mean_abs_p_yes_diff"] = (sum(abs(p - q) for p, q in probs) / len(probs)
                                  if probs else None)
    for rule, llm, side in ((a, b, "b"), (b, a, "a")):
        pairs = [(y["p_yes"], x["correct"]) for x, y in zip(rule, llm)
                 if x["verdict_method"] == "rule" and x["correct"] is not None
                 and y["p_yes"] is not None]
        if pairs:
            f = np.array([p for p, _ in pairs])
            t = np.array([float(c) for _, c in pairs])
            out["p_yes_vs_rule"] = {"side": side, "n": len(pairs),
                                    "brier": float(((f - t) ** 2).mean()),
                                    "smece": float(smece(f[None], t[None])[0]),
                                    "auroc": float(auroc(f[None], t[None], 15)[0])}
            break
    return out
