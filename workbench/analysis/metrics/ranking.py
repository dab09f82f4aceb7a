"""Ranking: does the model put more confidence on its right answers than on its wrong ones?
Both metrics read only the order of the confidences, so they also score measures that are not
probabilities (an entropy, a log-probability).

- AUROC: the chance that a right answer outranks a wrong one.
- AURAC: the area under the accuracy-rejection curve (Nadeem et al. 2009; LM-Polygraph's
  "PRR" family): answer only the k most confident questions, k = n, n-1, ..., 1, and average the
  accuracy of what is answered. A measure that ranks at random scores the accuracy, one that
  puts every right answer first scores the most that accuracy allows.

>>> import numpy as np
>>> float(AUROC.fn(np.array([0.9, 0.9, 0.6, 0.2]), np.array([1.0, 0.0, 1.0, 0.0]), 15))
0.625
>>> float(AURAC.fn(np.array([0.9, 0.6, 0.2]), np.array([1.0, 0.0, 1.0]), 15))  # (1 + 1/2 + 2/3)/3
0.7222222222222222
"""

from __future__ import annotations

import numpy as np

from .base import Metric, distinct_codes


def auroc(f: np.ndarray, y: np.ndarray, bins: int) -> np.ndarray:
    """Probability that a correct answer has higher confidence than a wrong one (ties count
    half), along the last axis; NaN when all answers are right or all wrong. Confidences are
    shares of M samples, so few distinct values: right and wrong answers are counted per value,
    scoring a thousand bootstrap resamples in one pass without sorting each (2× faster than
    ranks at 20,000 questions × 1,000 resamples, the same figures). Tests check it against
    scikit-learn's ``roc_auc_score`` and the pairwise definition."""
    f, y = np.asarray(f, float), np.asarray(y, float)
    codes, values = distinct_codes(f)
    k = len(values)
    if 4 * k > f.shape[-1]:  # nearly continuous confidences: ranks are cheaper
        return _by_ranks(f, y)
    rows = codes.reshape(-1, codes.shape[-1])
    n = len(rows)
    pos = y.reshape(rows.shape).astype(bool)
    flat = (np.arange(n)[:, None] * k + rows)
    right = np.bincount(flat[pos], minlength=n * k).reshape(n, k).astype(float)
    wrong = np.bincount(flat[~pos], minlength=n * k).reshape(n, k).astype(float)
    below = np.cumsum(wrong, axis=1) - wrong  # wrong answers with strictly less confidence
    n_pos, n_neg = right.sum(1), wrong.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (right * (below + wrong / 2)).sum(1) / (n_pos * n_neg)
    out = np.where((n_pos == 0) | (n_neg == 0), np.nan, out)
    return out.reshape(f.shape[:-1])



def _by_ranks(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The same figure from average ranks (Mann-Whitney U)."""
    # scipy takes ~1 s to import: only where a figure is computed, not for every CLI command.
    from scipy.stats import rankdata

    pos = y.astype(bool)
    n_pos = pos.sum(-1)
    n_neg = y.shape[-1] - n_pos
    ranks = rankdata(f, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ((ranks * pos).sum(-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos == 0) | (n_neg == 0), np.nan, out)


def aurac(f: np.ndarray, y: np.ndarray, bins: int) -> np.ndarray:
    """The mean, over k = 1..n, of the accuracy of the k most confident answers, along the last
    axis. Tied confidences are taken in every order equally often (their expected accuracy):
    within a run of ties each place gets the run's mean correctness, so a constant measure
    scores exactly the accuracy."""
    f, y = np.asarray(f, float), np.asarray(y, float)
    order = np.argsort(-f, axis=-1, kind="stable")
    fs, ys = np.take_along_axis(f, order, -1), np.take_along_axis(y, order, -1)
    n = f.shape[-1]
    idx = np.broadcast_to(np.arange(n), fs.shape)
    new = np.ones(fs.shape, bool)
    new[..., 1:] = fs[..., 1:] != fs[..., :-1]  # a tie run starts here
    last = np.ones(fs.shape, bool)
    last[..., :-1] = new[..., 1:]  # a tie run ends here
    start = np.maximum.accumulate(np.where(new, idx, 0), axis=-1)
    end = np.flip(np.minimum.accumulate(np.flip(np.where(last, idx, n - 1), -1), axis=-1), -1)
    cs = np.concatenate([np.zeros(fs.shape[:-1] + (1,)), np.cumsum(ys, -1)], -1)
    run_mean = (np.take_along_axis(cs, end + 1, -1) - np.take_along_axis(cs, start, -1)) / (
        end - start + 1)
    kept = np.cumsum(run_mean, -1) / (idx + 1)  # accuracy of the k most confident, k = idx + 1
    return kept.mean(-1)


AUROC = Metric("auroc", "AUROC", auroc, "higher",
               "chance that a right answer gets more confidence than a wrong one",
               probability=False)
AURAC = Metric("aurac", "AURAC", aurac, "higher",
               "mean accuracy of the k most confident answers over k (accuracy-rejection "
               "curve): accuracy for a random ranking, more for a better one", probability=False)
