"""Pure M ablation: how the metrics move when each question keeps only m of its M samples.

Each repeat draws, per question, m of the stored samples without replacement (seeded), takes the
plurality class among them (ties: lowest class id, as in the scores), its share of m as the
confidence and its stored verdict as the correctness. No new sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .confidence import estimate
from .metrics import NAMES, compute


@dataclass(frozen=True)
class AblationRow:
    m: int
    metric: str
    mean: float
    sd: float
    repeats: int


def subsample(classes: list[np.ndarray], verdicts: list[dict[int, bool | None]], m: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One draw: (confidence, correct) per question with a verdict. ``classes[q]`` holds each
    stored sample's class id (-1: no answer)."""
    subs = []
    for cls in classes:
        if m > len(cls):
            raise ValueError(f"m = {m} exceeds the {len(cls)} samples stored for a question "
                             "(the stage refuses such m first)")
        subs.append(cls[rng.choice(len(cls), m, replace=False)])
    f, y, _ = estimate(subs, verdicts)  # the score's plurality estimator on the subsample
    return f, y


def ablate(classes, verdicts, ms: list[int], *, repeats: int = 20, seed: int = 0,
           bins: int = 15) -> list[AblationRow]:
    rng = np.random.default_rng(seed)
    rows = []
    for m in ms:
        if m <= 0:
            raise ValueError(f"m must be ≥ 1, got {m} (the stage refuses such m first)")
        values = {k: [] for k in NAMES}
        for _ in range(repeats):
            f, y = subsample(classes, verdicts, m, rng)
            for k, v in compute(f, y, bins=bins).items():
                values[k].append(v)
        for k in NAMES:
            v = np.asarray(values[k])
            v = v[~np.isnan(v)]
            rows.append(AblationRow(m, k, float(v.mean()) if len(v) else float("nan"),
                                    float(v.std(ddof=1)) if len(v) > 1 else 0.0, repeats))
    return rows
