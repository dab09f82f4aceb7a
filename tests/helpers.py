"""What tests share that is not a fixture: a tiny real model, synthetic runs, servers' ports."""

from __future__ import annotations

import json
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from workbench.data import Dataset, Question
from workbench.grading.judges import Judge, JudgeItem
from workbench.store import Writer, records

WORKBENCH = str(Path(sys.executable).with_name("workbench"))  # the installed command

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


def default_sigint() -> None:
    """``preexec_fn`` for a child that must obey Ctrl-C: a shell's background job (so a suite
    started with ``&`` or ``nohup``) ignores SIGINT, and its children inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(args: list, ready, sig: str) -> int:
    """Start ``args`` (a real process), wait until ``ready()`` says it is in the middle of its
    work, send it ``sig`` (SIGINT or SIGTERM) and return its exit code. The wait for it to end
    is bounded far above any machine's pace: it tells "ends" from "never ends", it is no
    speed claim."""
    proc = subprocess.Popen(list(map(str, args)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=default_sigint)
    try:
        started = poll_until(lambda: proc.poll() is not None or ready(), every=0.02)
        assert started and proc.poll() is None, proc.communicate()[0]
        proc.send_signal(getattr(signal, sig))
        proc.communicate(timeout=300)
    finally:
        proc.kill()
    return proc.returncode


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def gsm8k_rows(n: int, offset: int = 0) -> list[dict]:
    """Rows in GSM8K's own format (the answer after ``####``)."""
    return [{"question": f"Tom has {i} apples and buys {i + 2}. How many?",
             "answer": f"He has {i} + {i + 2} = <<{i}+{i + 2}={2 * i + 2}>>{2 * i + 2} apples.\n"
                       f"#### {2 * i + 2:,}"} for i in range(offset, offset + n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll_until(condition, seconds: float = 600, every: float = 0.2) -> bool:
    """Ask ``condition()`` until it is true (True) or ``seconds`` pass (False): a wait for an
    event another process causes, whose deadline is a hang guard far above anything seen here,
    so a machine 10x slower still passes."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(every)
    return True


def answers(url: str) -> bool:
    """Whether ``url`` answers 2xx now."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


def wait_http(url: str, seconds: float = 600, proc=None) -> bool:
    """Poll ``url`` until it answers 2xx (True), or ``proc`` (the server's process, if given)
    has exited or ``seconds`` pass (False): a server that dies fails the wait at once."""
    dead = (lambda: proc.poll() is not None) if proc is not None else (lambda: False)
    return poll_until(lambda: dead() or answers(url), seconds) and not dead()


def query(db_path, sql: str, params=()) -> list[tuple]:
    """Rows of a query on a store, read-only, without the workbench's lock."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def make_run(db_path, dataset: Dataset, texts: dict[str, list[str]], style="concise",
             model="synthetic", kind="base") -> str:
    """A FINISHED run whose samples are the given texts (no model involved)."""
    run_id = records.new_id("run")
    m = len(next(iter(texts.values())))
    with Writer(db_path) as writer, writer.transaction() as con:
        ds_id = records.ensure_dataset(con, dataset)
        records.insert_rows(con, "runs", [dict(
            run_id=run_id, status="FINISHED", model=model, model_source="-",
            model_kind=kind, prompt_format="completion", backend="none", style=style,
            shots=0, dataset_id=ds_id, n_questions=len(texts), samples_per_question=m,
            temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=8, stop=[], seed=0,
            package_version="test", git_sha=None)])
        records.insert_rows(con, "run_questions", [
            dict(run_id=run_id, question_id=q, position=i) for i, q in enumerate(texts)])
        records.replace_samples(con, run_id, {q: "p" for q in texts}, [
            dict(run_id=run_id, question_id=q, sample_idx=i, text=t, n_tokens=1,
                 logprob=-1.0, finish_reason="stop", latency_s=0.1)
            for q, ts in texts.items() for i, t in enumerate(ts)])
    return run_id


CAPS = Dataset("caps", "test", (
    Question("fr", "Capital of France?", ("Paris",)),
    Question("au", "Capital of Australia?", ("Canberra",)),
    Question("us", "Capital of the US?", ("Washington, D.C.", "Washington")),
    Question("n", "2+2?", ("4",), "number"),
))
TEXTS = {
    "fr": [" Paris", " paris.", " in Paris", " Lyon", " Paris"],  # plurality right, 3/5
    "au": [" Sydney", " Sydney", " Canberra", " Sydney", " Melbourne"],  # wrong, 3/5
    "us": [" Washington", " Washington, D.C.", " New York", "", " Boston"],  # right, 2/5
    "n": [" 4", " 4.0", " four", " 5", " 4 apples"],  # right (by value), 3/5
}


def verdict(judge: Judge, answer: str, gold, answer_type: str, keys=(), groups=(),
            question: str = "q?") -> bool | None:
    """A judge's verdict on one answer, as a grading would ask for it."""
    return judge.judge(JudgeItem(question, answer, tuple(gold), answer_type, tuple(keys),
                                 tuple(groups))).correct
