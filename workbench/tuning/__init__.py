"""Tuned variants made here: LoRA adapters (peft) on a local model, trained on one split of a
dataset, saved in the model cache and used like any model.

- ``request.py``: what a tuning asks for (checked before any model loads) and its id;
- ``policy.py``: log-probabilities of completions with gradients (shared prompt passes);
- ``rl.py``, ``sft.py``: the methods; ``METHODS`` is the registry (one file and one line each);
- ``train.py``: the loop: LoRA on the parent, steps, the adapter saved.

Where a variant lives (its folder and lineage file) is the local backend's
(``backends/transformers/variants.py``), which loads it for sampling like any model.

The stage that records a tuning in the store and MLflow is ``stages/tune.py``.
"""

from __future__ import annotations

METHODS = {  # name -> "module:Class" in this package; the name is also the variant's kind
    "rl": "rl:RL",
    "sft": "sft:SFT",
}
