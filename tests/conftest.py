"""Shared fixtures: a tiny real transformers model, temp stores, bundled-model availability."""

from __future__ import annotations

import json
import socket
import string
import time
import urllib.request
from pathlib import Path

import pytest

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def build_tiny_model(folder: Path, seed: int = 0, head_scale: float = 4.0) -> Path:
    """A 2-layer Llama with random weights and a character-level tokenizer, saved like any
    Hugging Face model folder. ``head_scale`` sharpens its next-token distribution."""
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<bos>", "</s>", "<unk>", "<user>", "<assistant>", "<system>"]
    chars = list(dict.fromkeys(string.printable))
    vocab = {t: i for i, t in enumerate(specials + chars)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", special_tokens=[("<bos>", vocab["<bos>"])])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>",
                                   additional_special_tokens=specials[4:])
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=512, bos_token_id=vocab["<bos>"],
                      eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"],
                      tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        model.lm_head.weight.mul_(head_scale)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory) -> str:
    """One real MLflow store (sqlite + file artifacts) for the session: its schema set-up
    takes seconds, and runs in it are told apart by their ids."""
    folder = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "runs" / "workbench.duckdb"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def small_dataset(tmp_path) -> Path:
    rows = [{"id": f"f{i}", "question": f"What is {i} plus 1?", "answer": str(i + 1),
             "split": "fewshot"} for i in range(6)]
    rows += [{"id": "q1", "question": "What is the capital of France?",
              "answers": ["Paris"]},
             {"id": "q2", "question": "What is 2 plus 2?", "answer": "4"},
             {"id": "q3", "question": "Who wrote Hamlet?",
              "answers": ["William Shakespeare", "Shakespeare"]}]
    return write_jsonl(tmp_path / "small.jsonl", rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float) -> bool:
    """Poll ``url`` until it answers 2xx or ``seconds`` pass."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


def query(db_path, sql: str, params=()) -> list[tuple]:
    """Rows of a query on a store, read-only, without the workbench's lock."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()
