"""Tuned variants: the policy's log-probabilities, RL that raises its reward, lineage in DuckDB and
MLflow, the variant through generate/grade/score/diff, the cache, determinism, bad input."""

from __future__ import annotations

import json
import subprocess

import duckdb
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.helpers import WORKBENCH, write_jsonl
from workbench import api, data, prompts
from workbench.backends.base import ModelInfo, SamplingParams
from workbench.backends.transformers import variants
from workbench.backends.transformers.models import load, peft_quiet, resolve
from workbench.backends.transformers.tokens import TokenSampler
from workbench.grading.judges import get as get_judge
from workbench.stages.tune import tune
from workbench.tuning.policy import (
    completion_logprobs,
    group_advantages,
    kl_to_parent,
    token_logprobs,
)
from workbench.tuning.request import TuneRequest
from workbench.tuning.train import Trainee

# Single characters as gold answers: a tiny character-level model answers with one token, so the
# exact judge's reward is its probability mass on these characters (about a tenth at the start).
GOLD = list("aeiou")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def letters(tmp_path):
    rows = [{"id": f"t{i}", "question": f"Name a vowel, number {i}.", "answers": GOLD}
            for i in range(6)]
    return write_jsonl(tmp_path / "letters.jsonl", rows)


def test_completion_logprobs_are_the_samplers_own(tiny_model):
    """The shared-prefix pass gives each completion the log p the sampler drew it with, for
    prompts of different lengths (left padding) and completions of different lengths (right
    padding, EOS included)."""
    model, tok = load(ModelInfo("tiny", str(tiny_model), "base", "completion"))
    sampler = TokenSampler(model, tok)
    items = [("a", sampler.encode("Q: short?\nA:")),
             ("b", sampler.encode("Q: a much longer question than the first?\nA:"))]
    outs = sampler.sample_batch(items, SamplingParams(n=4, max_new_tokens=6, seed=3))
    lengths = {len(c.token_ids) for cs in outs for c in cs}
    assert len(lengths) > 1, "the check needs completions of different lengths"
    with torch.no_grad():
        logp, n = completion_logprobs(model, [p for _, p in items],
                                      [[list(c.token_ids) for c in cs] for cs in outs],
                                      sampler.pad_id)
    expect = torch.tensor([[sum(c.token_logprobs) for c in cs] for cs in outs])
    assert torch.allclose(logp, expect, atol=1e-4)
    assert n.tolist() == [[len(c.token_ids) for c in cs] for cs in outs]


def test_group_advantages_centre_each_group():
    r = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    assert group_advantages(r).tolist() == [[0.5, -0.5, -0.5, 0.5], [0.0] * 4]
    normalised = group_advantages(r, normalise=True)  # GRPO: ÷ the group's sd (0.5 here)
    assert torch.allclose(normalised[0], torch.tensor([1.0, -1.0, -1.0, 1.0]), atol=1e-3)
    assert normalised[1].tolist() == [0.0] * 4


def test_the_kl_to_the_parent_is_zero_there_and_its_gradient_is_exact(tiny_model):
    """KL(policy ‖ parent) on sampled tokens: exactly 0, with 0 gradient, while the LoRA adapter
    is the identity (as training starts); once the adapter moves, autograd's directional
    derivative equals a central finite difference (float64, h = 1e-4)."""
    from peft import LoraConfig, get_peft_model

    model, tok = load(ModelInfo("tiny", str(tiny_model), "base", "completion"))
    with peft_quiet():  # as training wraps it (peft asks transformers a deprecated question)
        model = get_peft_model(model.double(), LoraConfig(r=4, lora_alpha=8,
                                                          target_modules=["q_proj", "v_proj"]))
    sampler = TokenSampler(model, tok)
    prompts_ = [sampler.encode("Q: short?\nA:"), sampler.encode("Q: a longer question?\nA:")]
    outs = sampler.sample_batch([("a", prompts_[0]), ("b", prompts_[1])],
                                SamplingParams(n=3, max_new_tokens=5, seed=1))
    completions = [[list(c.token_ids) for c in cs] for cs in outs]

    def kl():
        with torch.no_grad(), model.disable_adapter():
            parent, _ = token_logprobs(model, prompts_, completions, sampler.pad_id)
        logp, mask = token_logprobs(model, prompts_, completions, sampler.pad_id)
        return kl_to_parent(logp, parent, mask)

    params = [p for p in model.parameters() if p.requires_grad]
    at_parent = kl()
    at_parent.backward()
    assert at_parent.item() == 0.0
    assert all(p.grad is None or not p.grad.any() for p in params)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # move the adapter off the identity
        for p in params:
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    for p in params:
        p.grad = None
    value = kl()
    value.backward()
    direction = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]
    analytic = sum((p.grad * d).sum() for p, d in zip(params, direction)).item()
    h = 1e-4
    with torch.no_grad():
        for p, d in zip(params, direction):
            p.add_(h * d)
        up = kl().item()
        for p, d in zip(params, direction):
            p.add_(-2 * h * d)
        down = kl().item()
    assert value.item() > 1e-4
    assert abs((up - down) / (2 * h) - analytic) <= 1e-5 + 1e-4 * abs(analytic)


def _reward_rate(model, tok, ds, plan, judge, seed: int, m: int = 64) -> float:
    """The exact judge's mean reward over m fresh samples per question (held-out seed)."""
    sampler = TokenSampler(model, tok)
    t = Trainee(None, model, tok, sampler, plan, ds, judge, sampler.pad_id)
    items = [(q.id, t.encode(q)) for q in ds.questions]
    outs = sampler.sample_batch(items, SamplingParams(n=m, max_new_tokens=1, stop=plan.stop,
                                                      seed=seed))
    return sum(t.reward(q, c) for q, cs in zip(ds.questions, outs) for c in cs) / (
        m * len(ds.questions))


def test_rl_raises_the_reward_on_its_training_split(tiny_model, letters, cache, db_path,
                                                    mlflow_uri):
    """A short seeded RL run moves probability onto correct answers: the judge's reward on the
    training questions, measured on 384 fresh samples before and after, goes up clearly; its
    per-step reward curve is stored."""
    ds = data.load(str(letters))
    plan = prompts.PromptPlan("concise", "completion", 0, 0)
    judge = get_judge("exact")
    info = ModelInfo("tiny", str(tiny_model), "base", "completion")
    before = _reward_rate(*load(info), ds, plan, judge, seed=99)
    req = TuneRequest(str(tiny_model), "rl", str(letters), "tiny-rl", steps=12,
                      learning_rate=0.05, questions_per_step=6, group=8, lora_rank=8,
                      lora_targets=("q_proj", "v_proj", "o_proj", "down_proj"), shots=0,
                      max_new_tokens=1)
    res = tune(req, db_path=db_path, mlflow_uri=mlflow_uri)
    after = _reward_rate(*load(resolve("tiny-rl")), ds, plan, judge, seed=99)
    assert 0.02 < before < 0.5
    assert after > before + 0.15, (before, after)
    con = duckdb.connect(str(db_path), read_only=True)
    curve = con.execute("SELECT step, reward FROM tuning_steps WHERE tuning_id = ? "
                        "ORDER BY step", [res.tuning_id]).fetchall()
    assert [s for s, _ in curve] == list(range(12))
    assert all(0 <= r <= 1 for _, r in curve)
    measured = con.execute("SELECT kl, unanimous FROM tuning_steps WHERE tuning_id = ?",
                           [res.tuning_id]).fetchall()
    assert all(kl >= 0 and 0 <= u <= 1 for kl, u in measured)
    assert measured[0][0] == 0.0  # the first rollouts come from the parent itself


def test_the_kl_penalty_keeps_the_policy_near_its_parent(tiny_model, letters, cache, db_path,
                                                         mlflow_uri):
    """Same seed and steps, with and without the anchor: the policy tuned with a strong KL
    penalty ends nearer its parent (the KL measured on the last step's rollouts)."""
    last = {}
    for coef in (0.0, 2.0):
        req = TuneRequest(str(tiny_model), "rl", str(letters), f"tiny-kl{coef}", steps=10,
                          learning_rate=0.05, questions_per_step=6, group=8, lora_rank=8,
                          lora_targets=("q_proj", "v_proj", "o_proj", "down_proj"), shots=0,
                          max_new_tokens=1, kl_coef=coef)
        last[coef] = tune(req, db_path=db_path, mlflow_uri=mlflow_uri).curve[-1]["kl"]
    assert last[2.0] < last[0.0] / 2, last


def test_sft_variant_lineage_runs_and_cache(tiny_model, small_dataset, cache, db_path,
                                            mlflow_uri):
    """A tiny SFT tune through the CLI: a loadable variant under the cache with its lineage in
    DuckDB and MLflow (loss per step), its kind recorded on every run that samples it, through
    grade/score/diff like any model; the same settings again are the cached variant (same
    tuning id), other settings under the same name are refused and change nothing."""
    env = {"WORKBENCH_CACHE": str(cache), "WORKBENCH_DB": str(db_path),
           "WORKBENCH_MLFLOW_URI": mlflow_uri}
    import os
    env = {**os.environ, **env}
    cmd = [WORKBENCH, "tune", "--from", str(tiny_model), "--method", "sft", "--dataset",
           str(small_dataset), "--steps", "3", "--questions-per-step", "2", "--shots", "2",
           "--lr", "0.01"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    name = done.stdout.strip()
    assert name == "tiny-llama-sft"
    folder = variants.find(name)
    lineage = variants.lineage(folder)
    assert lineage["method"] == "sft" and lineage["parent_model"] == str(tiny_model)
    assert len(lineage["curve"]) == 3

    con = duckdb.connect(str(db_path), read_only=True)
    row = con.execute("SELECT t.tuning_id, t.status, t.method, d.content_hash, t.steps, "
                      "t.learning_rate, t.adapter_sha256, t.mlflow_run_id FROM tunings t "
                      "JOIN datasets d USING (dataset_id)").fetchall()
    con.close()
    assert len(row) == 1
    tid, status, method, content_hash, steps, lr, sha, mlflow_run = row[0]
    assert (status, method, steps, lr) == ("FINISHED", "sft", 3, 0.01)
    assert content_hash == data.load(str(small_dataset)).content_hash
    assert sha == lineage["adapter_sha256"] == variants.sha256(folder / variants.ADAPTER)
    client = MlflowClient(mlflow_uri)
    assert [m.step for m in client.get_metric_history(mlflow_run, "loss")] == [0, 1, 2]
    assert client.get_run(mlflow_run).data.params["method"] == "sft"

    base = api.run_all(api.GenerateRequest(str(tiny_model), str(small_dataset), samples=4,
                                           shots=2), n_bootstrap=20, db_path=db_path,
                       mlflow_uri=mlflow_uri)
    tuned = api.run_all(api.GenerateRequest(name, str(small_dataset), samples=4, shots=2),
                        n_bootstrap=20, db_path=db_path, mlflow_uri=mlflow_uri)
    run = api.show(tuned.run_id, db_path=db_path)["run"]
    assert (run["model_kind"], run["tuning_id"]) == ("sft", tid)
    assert client.get_run(run["mlflow_run_id"]).data.tags["workbench.training_run"] == mlflow_run
    _, _, d = api.diff(base.grading_id, tuned.grading_id, n_bootstrap=20, db_path=db_path)
    assert d.n_shared == 3

    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0 and "already tuned" in again.stderr
    other = subprocess.run(cmd[:-1] + ["0.02"], capture_output=True, text=True, env=env,
                           timeout=300)
    assert other.returncode == 1
    assert other.stderr.count("\n") == 1 and "--name" in other.stderr and "exists" in other.stderr
    assert variants.lineage(folder)["adapter_sha256"] == sha  # untouched


def test_tuning_is_deterministic(tiny_model, small_dataset, cache, db_path, mlflow_uri):
    """Same seed, same adapter, byte for byte (a second name, so it trains again)."""
    shas = []
    for name in ("det-a", "det-b"):
        req = TuneRequest(str(tiny_model), "rl", str(small_dataset), name, steps=2,
                          questions_per_step=3, group=4, shots=2, max_new_tokens=4)
        res = tune(req, db_path=db_path, mlflow_uri=mlflow_uri)
        shas.append(variants.lineage(res.folder)["adapter_sha256"])
    assert shas[0] == shas[1]


@pytest.mark.parametrize("args, flag", [
    (["--method", "ppo"], "--method"),
    (["--method", "rl", "--group", "1"], "--group"),
    (["--method", "rl", "--name", "gemma-3-270m"], "--name"),
    (["--method", "rl", "--lr", "0"], "--lr"),
    (["--method", "rl", "--reward-judge", "smol"], "--reward-judge"),
    (["--method", "rl", "--shots", "50"], "--shots"),
    (["--method", "sft", "--lora-targets", "nonexistent_proj"], "--lora-targets"),
    (["--method", "rl", "--kl-coef", "-1"], "--kl-coef"),
    (["--method", "rl", "--advantage", "gae"], "--advantage"),
])
def test_bad_tune_input_is_one_line_and_stores_nothing(tiny_model, small_dataset, cache,
                                                       db_path, args, flag):
    done = subprocess.run([WORKBENCH, "tune", "--from", str(tiny_model), "--dataset",
                           str(small_dataset), "--db", str(db_path), *args],
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "WORKBENCH_CACHE": str(cache)})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and flag in done.stderr, done.stderr
    assert not db_path.exists() and not (cache / "models" / "tuned").exists()


def test_bundled_splits_are_disjoint_and_stable():
    for name in data.BUNDLED:
        whole = data.load(f"bundled:{name}")
        train = data.load(f"bundled:{name}:train")
        test = data.load(f"bundled:{name}:test")
        ids = [{q.id for q in d.questions} for d in (train, test)]
        assert not ids[0] & ids[1]
        assert ids[0] | ids[1] == {q.id for q in whole.questions}
        assert 0.35 < len(ids[0]) / len(whole.questions) < 0.65
    assert len(data.load("bundled:capitals:test").questions) == 96
    assert json.dumps(sorted(q.id for q in data.load("bundled:capitals:train").questions)[:3]) \
        == '["capital-albania", "capital-andorra", "capital-angola"]'


def test_a_failed_tuning_is_retried_in_place(tiny_model, small_dataset, cache, db_path,
                                             mlflow_uri, monkeypatch):
    """A tuning that dies part-way is FAILED with its steps so far and no variant; the same
    request again trains from scratch under the same id and replaces the curve."""
    from workbench.tuning import sft

    real = sft.SFT.loss

    def dies_at_step_1(self, step, questions):
        if step == 1:
            raise RuntimeError("out of memory (simulated)")
        return real(self, step, questions)

    req = TuneRequest(str(tiny_model), "sft", str(small_dataset), "retry", steps=3,
                      questions_per_step=2, shots=2)
    monkeypatch.setattr(sft.SFT, "loss", dies_at_step_1)
    with pytest.raises(RuntimeError):
        tune(req, db_path=db_path, mlflow_uri=mlflow_uri)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT status, error LIKE '%simulated%' FROM tunings").fetchall() == [
        ("FAILED", True)]
    assert con.execute("SELECT count(*) FROM tuning_steps").fetchone()[0] == 1
    con.close()
    assert variants.find("retry") is None
    monkeypatch.setattr(sft.SFT, "loss", real)
    res = tune(req, db_path=db_path, mlflow_uri=mlflow_uri)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT tuning_id, status FROM tunings").fetchall() == [
        (res.tuning_id, "FINISHED")]
    assert con.execute("SELECT count(*) FROM tuning_steps").fetchone()[0] == 3


def test_resume_refuses_a_variant_tuned_again_with_other_settings(tiny_model, small_dataset,
                                                                  cache, db_path, mlflow_uri):
    """A run of a variant that was re-tuned (overwritten) since would mix two models' samples."""
    from workbench.errors import StageError

    def make(lr):
        return tune(TuneRequest(str(tiny_model), "sft", str(small_dataset), "moving", steps=1,
                                questions_per_step=2, shots=2, learning_rate=lr,
                                overwrite=True), db_path=db_path, mlflow_uri=mlflow_uri)

    first = make(0.01)
    run_id = api.generate(api.GenerateRequest("moving", str(small_dataset), samples=2, shots=2),
                          db_path=db_path, mlflow_uri=mlflow_uri)
    with duckdb.connect(str(db_path)) as con:  # as a killed run leaves it
        con.execute("UPDATE runs SET status = 'FAILED' WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM samples WHERE run_id = ?", [run_id])
    second = make(0.02)
    assert second.tuning_id != first.tuning_id
    with pytest.raises(StageError, match="mix two models"):
        api.resume(run_id, db_path=db_path, mlflow_uri=mlflow_uri)


def test_asking_a_variant_its_training_questions_is_warned(tiny_model, small_dataset, cache,
                                                          db_path, mlflow_uri):
    tune(TuneRequest(str(tiny_model), "sft", str(small_dataset), "seen", steps=1,
                     questions_per_step=2, shots=2), db_path=db_path, mlflow_uri=mlflow_uri)
    said = []
    api.generate(api.GenerateRequest("seen", str(small_dataset), samples=2, shots=2),
                 db_path=db_path, mlflow_uri=mlflow_uri, log=said.append)
    assert any("3 of the 3 questions were in the training data of seen" in s for s in said)
