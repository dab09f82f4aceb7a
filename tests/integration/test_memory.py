"""How much a batch of samples holds, from real models' configs (written as fixtures: no hub),
and batches planned to fit a budget."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from transformers import AutoConfig

from workbench.backends.transformers.memory import check_samples, plan_batches, row_bytes, shape_of
from workbench.errors import UsageError

CONFIGS = Path(__file__).parent.parent / "fixtures" / "configs"
GB = 2**30


def shape(name, tmp_path):
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(CONFIGS / f"{name}.json", folder / "config.json")
    return shape_of(AutoConfig.from_pretrained(folder))


@pytest.mark.parametrize("name,kv_per_token,vocab", [
    ("gemma-3-270m", 2 * 18 * 1 * 256, 262144),  # layers x KV heads x head size, K and V
    ("qwen2.5-7b", 2 * 28 * 4 * 128, 152064),  # head size 3584 / 28
    ("llama-3.1-70b", 2 * 80 * 8 * 128, 128256),
])
def test_row_bytes_follow_the_config(tmp_path, name, kv_per_token, vocab):
    s = shape(name, tmp_path)
    assert row_bytes(s, 500, 64, 2) == kv_per_token * 2 * 564 + 3 * 4 * vocab


def test_an_absurd_m_is_refused_with_the_figures(tmp_path):
    gemma = shape("gemma-3-270m", tmp_path)
    with pytest.raises(UsageError, match=r"100000 samples of one question need at least 3\d\d"
                                         r"\.\d GB .* budget is 8\.0 GB; at most \d+ fit"):
        check_samples(gemma, 100_000, 16, 4, 8 * GB)
    check_samples(gemma, 100, 16, 4, 8 * GB)  # a hundred fits easily


def test_plans_give_the_batches_the_arithmetic_says(tmp_path):
    qwen = shape("qwen2.5-7b", tmp_path)
    per_question = 50 * (57_344 * 564 + 12 * 152064)  # bf16 KV per token, 500 + 64 tokens
    fit = int(10 * GB // per_question)  # 6 questions of M = 50 (1.6 GB each) in 10 GB
    batches = plan_batches([500] * 14, 50, 64, qwen, 2, 10 * GB)
    assert [len(b) for b in batches] == [fit, fit, 14 - 2 * fit] == [6, 6, 2]
    assert sum(batches, []) == list(range(14))  # every question once, in order
    llama = shape("llama-3.1-70b", tmp_path)
    assert [len(b) for b in plan_batches([500] * 3, 50, 64, llama, 2, 10 * GB)] == [1, 1, 1]
    with pytest.raises(UsageError, match="one question's 100 samples"):
        plan_batches([500], 100, 64, llama, 2, 10 * GB)
