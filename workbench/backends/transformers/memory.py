"""How much memory a batch of samples takes, from the model's config alone, and batches that fit.

Per row (one sample being decoded) the sampler holds a KV cache for its prompt and its new tokens
(the prompt's cache is copied to each of a question's M rows) and the last position's logits over
the vocabulary in float32, which the draw copies twice more (weights, block sums and the chosen
block are small beside it). Activations of a decode step are small beside these; the prefill of a
question's prompt is counted once per question.

>>> shape = ModelShape(layers=18, kv_heads=1, head_dim=256, vocab=262144, hidden=640)
>>> round(row_bytes(shape, 300, 16, 4) / 2**20, 1)
14.1
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ...errors import UsageError

LOGIT_COPIES = 3  # the logits, the draw's weights, and its working copy


@dataclass(frozen=True)
class ModelShape:
    layers: int
    kv_heads: int
    head_dim: int
    vocab: int
    hidden: int


def shape_of(config) -> ModelShape:
    """The sizes that decide memory, from a transformers config (text part where nested)."""
    config = getattr(config, "text_config", None) or config
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return ModelShape(config.num_hidden_layers, getattr(config, "num_key_value_heads", None)
                      or heads, head_dim, config.vocab_size, config.hidden_size)


def row_bytes(shape: ModelShape, prompt_tokens: int, new_tokens: int, dtype_bytes: int) -> int:
    """Bytes one decoding row holds: its KV cache at full length and its logits."""
    kv = 2 * shape.layers * shape.kv_heads * shape.head_dim * dtype_bytes
    return kv * (prompt_tokens + new_tokens) + LOGIT_COPIES * 4 * shape.vocab


def prefill_bytes(shape: ModelShape, prompt_tokens: int, dtype_bytes: int) -> int:
    """A prompt's forward pass: hidden states and attention scores of one layer at a time."""
    return prompt_tokens * (4 * shape.hidden + prompt_tokens) * dtype_bytes * 4


def available_bytes() -> int:
    """Memory the OS says is available now (Linux); a conservative 4 GiB elsewhere."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30


def default_budget(device: str = "cpu", weights_loaded: bool = False) -> int:
    """What the sampler's rows may use on ``device``. The CPU (and MPS, which shares host
    memory): half of what the OS says is available, the rest for the weights and everything
    else. A CUDA device: half its free memory before the weights load (a check), 80% of it once
    they are in. ``WORKBENCH_MEMORY_BUDGET`` (bytes) overrides it."""
    env = os.environ.get("WORKBENCH_MEMORY_BUDGET")
    if env:
        return int(env)
    if device.startswith("cuda"):
        import torch  # seconds to import: only for a CUDA device

        free = torch.cuda.mem_get_info(torch.device(device))[0]
        return int(free * (0.8 if weights_loaded else 0.5))
    return available_bytes() // 2


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f} GB"


def check_samples(shape: ModelShape, samples: int, new_tokens: int, dtype_bytes: int,
                  budget: int) -> None:
    """Refuse an M whose rows for one question cannot fit even with an empty prompt."""
    need = samples * row_bytes(shape, 0, new_tokens, dtype_bytes)
    if need > budget:
        per_row = row_bytes(shape, 0, new_tokens, dtype_bytes)
        raise UsageError("samples", f"{samples} samples of one question need at least "
                                    f"{_gb(need)} at once (KV cache and logits) but the memory "
                                    f"budget is {_gb(budget)}; at most {budget // per_row} fit")


def plan_batches(prompt_lengths: list[int], samples: int, new_tokens: int, shape: ModelShape,
                 dtype_bytes: int, budget: int) -> list[list[int]]:
    """Split questions (by index) into consecutive batches whose rows fit ``budget``. A
    question's M rows are never split, so the samples do not depend on the split.

    >>> s = ModelShape(2, 1, 8, 100, 16)
    >>> plan_batches([10, 10, 10], 4, 5, s, 4, budget=4 * row_bytes(s, 10, 5, 4) * 2)
    [[0, 1], [2]]
    """
    batches, current, used = [], [], 0
    for i, length in enumerate(prompt_lengths):
        cost = samples * row_bytes(shape, length, new_tokens, dtype_bytes)
        if cost + prefill_bytes(shape, length, dtype_bytes) > budget:
            raise UsageError("samples", f"one question's {samples} samples with its "
                                        f"{length}-token prompt need {_gb(cost)} but the memory "
                                        f"budget is {_gb(budget)}")
        if current and used + cost > budget:
            batches.append(current)
            current, used = [], 0
        current.append(i)
        used += cost
    if current:
        batches.append(current)
    return batches
