"""Does a server sample the distribution it is asked for? Pure statistics on first tokens.

The reference is the model's next-token distribution for one prompt (exact, from the local model,
or as the server itself reports it in ``top_logprobs``); the draws are the first tokens of many
samples the server returned. A chi-square goodness-of-fit test compares them (tokens expected at
least 5 times are bins, the rest one bin), and its power against the truncations servers apply by
default (top-k, min-p) is computed exactly from the noncentral chi-square distribution, so a
"consistent" verdict says how large a truncation it would have caught.

>>> p = {"a": 0.5, "b": 0.3, "c": 0.2}
>>> {t: round(q, 3) for t, q in truncate(p, top_k=2).items()}
{'a': 0.625, 'b': 0.375}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..errors import MeasurementError

MIN_EXPECTED = 5.0
OTHER = "<other>"


@dataclass(frozen=True)
class FitTest:
    n: int
    bins: list[str]  # token texts; the last may be "<other>"
    observed: list[int]
    expected: list[float]
    chi2: float
    df: int
    p_value: float


def truncate(probs: dict[str, float], *, top_k: int = 0, min_p: float = 0.0) -> dict[str, float]:
    """The distribution a server samples when it truncates ``probs`` and renormalises."""
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])
    if top_k:
        ranked = ranked[:top_k]
    if min_p:
        ranked = [(t, p) for t, p in ranked if p >= min_p * ranked[0][1]]
    total = sum(p for _, p in ranked)
    return {t: p / total for t, p in ranked}


def _bins(probs: dict[str, float], n: int) -> list[str]:
    """Tokens expected at least ``MIN_EXPECTED`` times in ``n`` draws, likeliest first, then
    ``OTHER`` for the rest when it is expected that often too (else the rest joins the last
    bin)."""
    kept = [t for t, p in sorted(probs.items(), key=lambda kv: -kv[1]) if n * p >= MIN_EXPECTED]
    if n * (1.0 - sum(probs[t] for t in kept)) >= MIN_EXPECTED:
        kept.append(OTHER)
    return kept


def _spread(values: list[float], bins: list[str], rest: float) -> np.ndarray:
    """Per-bin values, with what falls in no named bin added to ``OTHER`` or the last bin."""
    return np.asarray(values + [rest] if OTHER in bins else values[:-1] + [values[-1] + rest],
                      float)


def _binned(probs: dict[str, float], bins: list[str]) -> np.ndarray:
    values = [probs.get(b, 0.0) for b in bins if b != OTHER]
    return _spread(values, bins, max(0.0, 1.0 - sum(values)))


def fit(reference: dict[str, float], draws: list[str]) -> FitTest:
    """Goodness of fit of the drawn first tokens to the reference distribution."""
    n = len(draws)
    bins = _bins(reference, n)
    if len(bins) < 2:
        raise MeasurementError(f"the reference distribution is too concentrated for a test at "
                               f"{n} draws: more draws (--n) or another prompt")
    counts = Counter(draws)
    named = [counts.get(b, 0) for b in bins if b != OTHER]
    observed = _spread(named, bins, n - sum(named))
    expected = n * _binned(reference, bins)
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    df = len(bins) - 1
    # scipy takes ~1 s to import: only when a server is checked, not for every CLI command.
    from scipy import stats

    return FitTest(n, bins, observed.astype(int).tolist(), expected.tolist(), chi2, df,
                   float(stats.chi2.sf(chi2, df)))


def power(reference: dict[str, float], alternative: dict[str, float], n: int,
          alpha: float) -> float:
    """Chance that ``fit`` rejects at level ``alpha`` when the server samples ``alternative``
    instead of ``reference`` (noncentral chi-square with the same bins)."""
    bins = _bins(reference, n)
    p, q = _binned(reference, bins), _binned(alternative, bins)
    noncentrality = float(n * ((q - p) ** 2 / p).sum())
    df = len(bins) - 1
    # scipy: see fit()
    from scipy import stats

    return float(stats.ncx2.sf(stats.chi2.isf(alpha, df), df, noncentrality))


@dataclass(frozen=True)
class Truncation:
    max_rank: int  # the least likely drawn token's rank in the reference (1: the likeliest)
    beyond_mass: float  # reference mass beyond that rank
    p_none_beyond: float  # chance of drawing nothing beyond it, sampling faithfully
    min_ratio: float  # the smallest p(drawn) / p(likeliest) seen
    below_mass: float  # reference mass of tokens below that ratio
    p_none_below: float


def infer_truncation(reference: dict[str, float], draws: list[str]) -> Truncation:
    """What the draws say about a top-k or min-p the server applied: nothing drawn beyond rank
    r, where a faithful sampler would have drawn there, suggests top-k ≤ r; likewise for the
    smallest probability ratio drawn and min-p."""
    ranked = sorted(reference.items(), key=lambda kv: -kv[1])
    rank = {t: i + 1 for i, (t, _) in enumerate(ranked)}
    top = ranked[0][1]
    seen = [d for d in draws if d in rank]
    max_rank = max((rank[d] for d in seen), default=0)
    beyond = sum(p for _, p in ranked[max_rank:])
    ratio = min((reference[d] / top for d in seen), default=1.0)
    below = sum(p for _, p in ranked if p / top < ratio)
    n = len(draws)
    return Truncation(max_rank, float(beyond), float((1 - beyond) ** n), float(ratio),
                      float(below), float((1 - below) ** n))


@dataclass(frozen=True)
class Cause:
    kind: str  # faithful | truncated | different
    text: str  # the verdict in words


def cause(test: FitTest, t: Truncation, alpha: float) -> Cause:
    """Why the draws do not fit, when they do not: a tail never drawn where a faithful sampler
    would have drawn there is truncation (top-k or min-p); a tail drawn but in other proportions
    is another distribution of the same support, i.e. another model (quantized kernels, another
    dtype or revision), which for calibration is another variant, not an unfaithful server."""
    if test.p_value >= alpha:
        return Cause("faithful", "consistent with the model's distribution")
    cut = []
    if t.p_none_beyond < alpha:
        cut.append(f"nothing drawn beyond rank {t.max_rank} where a faithful sampler puts "
                   f"{t.beyond_mass:.1%} (top-k ≤ {t.max_rank}?)")
    if t.p_none_below < alpha:
        cut.append(f"nothing drawn below {t.min_ratio:.3g} × the likeliest where a faithful "
                   f"sampler puts {t.below_mass:.1%} (min-p ≥ {t.min_ratio:.3g}?)")
    if cut:
        return Cause("truncated", "truncated: " + "; ".join(cut))
    return Cause("different", f"a different distribution, not a truncated one: the tail is "
                              f"drawn (up to rank {t.max_rank}) but the proportions differ, as "
                              "when the server computes another model (quantized weights, "
                              "another dtype or revision); for calibration that is another "
                              "variant of the model, so record it as one")
