"""The bundled models' converted folders are plain Hugging Face folders every engine loads:
their architecture named, no stale GGUF quantization config (vLLM loaded the first as an
embedding model and refused the second)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from tests.helpers import build_tiny_model
from workbench.backends.transformers.models import BUNDLED, make_portable, resolve


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_each_bundled_folder_names_its_architecture_and_no_quantization(name):
    folder = Path(resolve(name).source)
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    model = AutoModelForCausalLM.from_pretrained(folder)  # the folder alone
    assert config["architectures"] == [type(model).__name__]


def test_a_folder_converted_before_the_fix_is_made_portable_and_computes_the_same(tmp_path):
    folder = build_tiny_model(tmp_path / "tiny")
    path = folder / "config.json"
    stale = json.loads(path.read_text())
    stale.pop("architectures", None)
    stale["quantization_config"] = {"quant_method": "gguf", "gguf_file": "x.gguf",
                                    "dequantize": False}
    path.write_text(json.dumps(stale))
    make_portable(folder)
    fixed = json.loads(path.read_text())
    assert fixed["architectures"] == ["LlamaForCausalLM"] and "quantization_config" not in fixed
    assert {k: v for k, v in fixed.items() if k != "architectures"} == {
        k: v for k, v in stale.items() if k != "quantization_config"}
    before = path.read_bytes()
    make_portable(folder)
    assert path.read_bytes() == before  # idempotent
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        logits = AutoModelForCausalLM.from_pretrained(folder)(input_ids=ids).logits
    assert torch.isfinite(logits).all()
