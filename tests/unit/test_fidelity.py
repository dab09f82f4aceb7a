"""check-server's verdict names its cause: a truncated tail, or another model's distribution
(the llama.cpp case: a quantized server whose tail is sampled but whose proportions differ)."""

import numpy as np
import pytest

from workbench.analysis import fidelity

REFERENCE = {f"t{i}": 1.0 / (i + 1) ** 1.1 for i in range(300)}
_TOTAL = sum(REFERENCE.values())
REFERENCE = {t: p / _TOTAL for t, p in REFERENCE.items()}


def _draws(probs: dict[str, float], n: int, seed: int) -> list[str]:
    tokens = list(probs)
    return list(np.random.default_rng(seed).choice(tokens, size=n, p=list(probs.values())))


def _tempered(probs: dict[str, float], power: float) -> dict[str, float]:
    raised = {t: p ** power for t, p in probs.items()}
    total = sum(raised.values())
    return {t: p / total for t, p in raised.items()}


@pytest.mark.parametrize("served, kind", [
    (REFERENCE, "faithful"),
    (fidelity.truncate(REFERENCE, top_k=5), "truncated"),
    (fidelity.truncate(REFERENCE, min_p=0.05), "truncated"),
    (_tempered(REFERENCE, 1.25), "different"),  # sharper, every token still drawable
])
def test_cause_tells_truncation_from_another_model(served, kind):
    draws = _draws(served, 2000, seed=3)
    test = fidelity.fit(REFERENCE, draws)
    found = fidelity.cause(test, fidelity.infer_truncation(REFERENCE, draws), alpha=1e-3)
    assert found.kind == kind, found.text


def test_truncation_names_the_rank_it_stops_at():
    draws = _draws(fidelity.truncate(REFERENCE, top_k=5), 2000, seed=4)
    found = fidelity.cause(fidelity.fit(REFERENCE, draws),
                           fidelity.infer_truncation(REFERENCE, draws), alpha=1e-3)
    assert "top-k ≤ 5" in found.text
