"""The local sampler through real transformers code, on a tiny model built from a config."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from transformers import AutoModelForCausalLM, AutoTokenizer

from workbench.backends.base import SamplingParams
from workbench.backends.transformers.tokens import TokenSampler, draw, filter_logits


@pytest.fixture(scope="module")
def sampler(tiny_model):
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    return TokenSampler(model, AutoTokenizer.from_pretrained(tiny_model))


def _full_logprob(sampler, prompt_ids, token_ids) -> float:
    ids = torch.tensor([list(prompt_ids) + list(token_ids)])
    with torch.no_grad():
        logp = sampler.model(input_ids=ids).logits[0].log_softmax(-1)
    n = len(prompt_ids)
    return float(sum(logp[n - 1 + i, t] for i, t in enumerate(token_ids)))


def test_returns_m_samples_with_exact_logprobs(sampler):
    ids = sampler.encode("Q: what is 2+2?\nA:")
    out = sampler.sample(ids, SamplingParams(n=6, max_new_tokens=12, seed=1), key="q")
    assert len(out) == 6
    for c in out:
        assert 1 <= c.n_tokens <= 12
        assert c.n_tokens == len(c.token_ids)
        assert c.finish_reason in ("stop", "length")
        assert c.latency_s > 0
        # The summed logprob is the model's own, recomputed with one full forward pass.
        assert c.logprob == pytest.approx(_full_logprob(sampler, ids, c.token_ids), abs=1e-4)


def test_batched_prompts_match_single_prompts(sampler):
    """Left-padding and batching across prompts must not change any sample."""
    a = sampler.encode("short")
    b = sampler.encode("a much longer prompt than the first one")
    params = SamplingParams(n=4, max_new_tokens=10, seed=3)
    together = sampler.sample_batch([("a", a), ("b", b)], params)
    assert [c.text for c in together[0]] == [c.text for c in sampler.sample(a, params, "a")]
    assert [c.text for c in together[1]] == [c.text for c in sampler.sample(b, params, "b")]
    for c in together[1]:
        assert c.logprob == pytest.approx(_full_logprob(sampler, b, c.token_ids), abs=1e-4)


def test_seeded_and_keyed(sampler):
    ids = sampler.encode("x")
    p = SamplingParams(n=8, max_new_tokens=8, seed=7)
    first = [c.text for c in sampler.sample(ids, p, "k1")]
    assert first == [c.text for c in sampler.sample(ids, p, "k1")]
    assert first != [c.text for c in sampler.sample(ids, p, "k2")]


def test_greedy_matches_transformers_generate_with_padding(sampler):
    prompts = ["hi", "a longer prompt, padded on the left"]
    items = [(p, sampler.encode(p)) for p in prompts]
    ours = sampler.sample_batch(items, SamplingParams(n=1, temperature=0, max_new_tokens=8))
    for (p, ids), got in zip(items, ours):
        ref = sampler.model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=8,
                                     pad_token_id=sampler.pad_id)
        ref_ids = ref[0, len(ids):].tolist()
        ends = [i for i, t in enumerate(ref_ids) if t in sampler.eos_ids]
        ref_ids = ref_ids[:ends[0] + 1] if ends else ref_ids  # generate pads after EOS
        assert list(got[0].token_ids) == ref_ids  # the whole continuation, EOS included
        assert got[0].finish_reason == ("stop" if ends else "length")


def test_stop_strings_cut_text_and_end_sequence(sampler):
    # With every printable character a stop string, the first token that prints ends a sample
    # (special tokens print nothing, so they cannot complete a stop string).
    import string

    ids = sampler.encode("anything")
    out = sampler.sample(ids, SamplingParams(n=20, max_new_tokens=10,
                                             stop=tuple(string.printable)), "s")
    for c in out:
        assert c.text == ""
        assert c.finish_reason == "stop"
        last = c.token_ids[-1]
        assert last in sampler.eos_ids or sampler.tokenizer.decode([last]) in string.printable
        assert all(sampler.tokenizer.decode([t], skip_special_tokens=True) == ""
                   for t in c.token_ids[:-1])


def test_length_finish_when_budget_runs_out(sampler):
    out = sampler.sample(sampler.encode("z"), SamplingParams(n=20, max_new_tokens=2), "len")
    assert {c.finish_reason for c in out} <= {"stop", "length"}
    assert all(c.n_tokens <= 2 for c in out)
    assert any(c.finish_reason == "length" for c in out)


def test_first_token_frequencies_match_model_probabilities(sampler):
    """Temperature-1 sampling is exact: a chi-square test of 4000 first tokens against the
    model's softmax (seeded, so the test is deterministic)."""
    ids = sampler.encode("Q:")
    with torch.no_grad():
        logits = sampler.model(input_ids=torch.tensor([ids])).logits[0, -1].double()
    probs = logits.softmax(-1).numpy()
    out = sampler.sample(ids, SamplingParams(n=4000, max_new_tokens=1, seed=11), "chi")
    counts = np.bincount([c.token_ids[0] for c in out], minlength=len(probs))
    top = np.argsort(-probs)[:8]
    rest = np.setdiff1d(np.arange(len(probs)), top)
    observed = np.append(counts[top], counts[rest].sum())
    expected = np.append(probs[top], probs[rest].sum()) * 4000
    assert expected.min() > 5, "the test needs enough mass per bin"
    _, p_value = stats.chisquare(observed, expected)
    assert p_value > 1e-3


def test_draw_respects_top_k_and_greedy():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0]] * 50)
    gens = [torch.Generator().manual_seed(0)]
    tok, _ = draw(logits, SamplingParams(n=1, top_k=1), gens, [0] * 50)
    assert set(tok.tolist()) == {1}
    tok, _ = draw(logits, SamplingParams(n=1, top_k=2), gens, [0] * 50)
    assert set(tok.tolist()) <= {1, 3}
    tok, lp = draw(logits, SamplingParams(n=1, temperature=0), gens, [0] * 50)
    assert set(tok.tolist()) == {1}
    assert float(lp[0]) == pytest.approx(float(logits[0].log_softmax(-1)[1]))


def test_top_p_keeps_the_smallest_set_reaching_p():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(filter_logits(logits, 1.0, 0, 0.8))[0].tolist()
    assert kept == [True, True, False, False]
    kept = torch.isfinite(filter_logits(logits, 1.0, 0, 0.81))[0].tolist()
    assert kept == [True, True, True, False]


@pytest.mark.parametrize("bad", [dict(n=0), dict(top_p=0), dict(max_new_tokens=0),
                                 dict(temperature=-1)])
def test_bad_params_rejected(bad):
    with pytest.raises(ValueError):
        SamplingParams(**bad)


@pytest.mark.parametrize("top_k", [0, 40])
def test_two_level_draw_matches_its_distribution_across_blocks(top_k):
    """Vocabulary of 5000 (ten 512-blocks, the last padded): 20000 draws against the exact
    (optionally top-k truncated) softmax."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(5000, generator=gen, dtype=torch.float64) * 2.5
    probs = logits.softmax(-1)
    if top_k:
        keep = torch.topk(logits, top_k).indices
        probs = torch.zeros_like(probs).index_fill_(0, keep, 1.0) * probs
        probs /= probs.sum()
    rows = logits.float().expand(20000, -1)
    tok, lp = draw(rows, SamplingParams(n=1, top_k=top_k), [torch.Generator().manual_seed(1)],
                   [0] * 20000)
    assert torch.allclose(lp.double(), logits.log_softmax(-1)[tok], atol=1e-5)
    counts = np.bincount(tok.numpy(), minlength=5000)
    assert counts[probs.numpy() == 0].sum() == 0
    order = np.argsort(-probs.numpy())
    top = order[:30]
    rest = order[30:]
    observed = np.append(counts[top], counts[rest].sum())
    expected = np.append(probs.numpy()[top], probs.numpy()[rest].sum()) * 20000
    keep = expected > 5
    if (~keep).any():
        observed = np.append(observed[keep], observed[~keep].sum())
        expected = np.append(expected[keep], expected[~keep].sum())
    expected *= observed.sum() / expected.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-3


@pytest.fixture(scope="module")
def sharp_sampler(tmp_path_factory):
    """A tiny model with a peaked next-token distribution, so classes repeat often."""
    from tests.helpers import build_tiny_model

    folder = build_tiny_model(tmp_path_factory.mktemp("sharp") / "m", seed=0, head_scale=40.0)
    return TokenSampler(AutoModelForCausalLM.from_pretrained(folder).eval(),
                        AutoTokenizer.from_pretrained(folder))


def _class_table(sampler, ids, texts_a, texts_b):
    from workbench.grading.classes import assign_classes
    from workbench.grading.extract import extract_answer

    answers = [extract_answer(t, "concise") for t in texts_a + texts_b]
    classes, _, _ = assign_classes(answers, "text")
    labels = np.array([-1 if c is None else c for c in classes])
    a, b = labels[:len(texts_a)], labels[len(texts_a):]
    values, totals = np.unique(labels, return_counts=True)
    common = values[totals >= 20]  # pool rare classes so every cell has enough mass
    table = np.array([[np.sum(x == v) for v in common] + [np.sum(~np.isin(x, common))]
                      for x in (a, b)])
    return table[:, table.sum(0) > 0]


def test_class_frequencies_match_plain_generate(sharp_sampler):
    """Speed never changes the science: the classes of 3000 samples from the workbench sampler
    and 3000 from plain `generate(do_sample=True, top_k=0)` come from one distribution (a
    chi-square test of homogeneity, seeded). The same test rejects our sampler run at
    temperature 0.8, so it has the power to notice a wrong distribution."""
    s = sharp_sampler
    ids = s.encode("Q: name a letter\nA:")
    n, new = 3000, 2
    torch.manual_seed(2)
    with torch.no_grad():
        out = s.model.generate(torch.tensor([ids]), do_sample=True, temperature=1.0, top_k=0,
                               top_p=1.0, num_return_sequences=n, max_new_tokens=new,
                               pad_token_id=s.pad_id)
    plain = s.tokenizer.batch_decode(out[:, len(ids):], skip_special_tokens=True)

    def ours(temperature):
        params = SamplingParams(n=n, max_new_tokens=new, seed=2, temperature=temperature)
        return [c.text for c in s.sample(ids, params, "homogeneity")]

    table = _class_table(s, ids, ours(1.0), plain)
    assert table.shape[1] >= 5, "the test needs several classes to have power"
    assert stats.chi2_contingency(table).pvalue > 1e-3
    assert stats.chi2_contingency(_class_table(s, ids, ours(0.8), plain)).pvalue < 1e-6


def test_the_local_sampler_reports_each_batch_as_it_decodes(sampler):
    """Progress inside a chunk: with a memory budget that fits one question's samples at a
    time, each of three questions is its own batch; each batch reports its share as it
    decodes (a long CoT batch was silent until it ended) and makes up one question whole."""
    from workbench.backends.base import ModelInfo
    from workbench.backends.transformers.memory import prefill_bytes, row_bytes
    from workbench.backends.transformers.sampler import TransformersSampler

    info = ModelInfo("tiny", "-", "base", "completion")
    local = TransformersSampler(info, sampler, "float32", budget=1)
    params = SamplingParams(n=4, max_new_tokens=32, seed=0)
    items = [(k, f"Q: {k}?\nA:") for k in ("a", "b", "c")]
    longest = max(len(sampler.encode(t)) for _, t in items)
    rows = 4 * row_bytes(local.shape, longest, 32, 4)
    assert rows > prefill_bytes(local.shape, longest, 4)  # so two questions never fit
    local.budget = rows + prefill_bytes(local.shape, longest, 4)
    reported = []
    local.on_sampled = reported.append
    out = local.sample(items, params)
    assert [len(r) for r in out] == [4, 4, 4] and len(reported) > 3
    whole = np.cumsum(reported)
    assert sorted({round(x, 9) for x in whole if abs(x - round(x)) < 1e-9}) == [1, 2, 3]
    assert all(0 <= r <= 1 for r in reported) and whole[-1] == pytest.approx(3)


def test_a_local_run_counts_a_chunk_as_it_decodes(tiny_model, small_dataset, tmp_path,
                                                  mlflow_uri):
    """One chunk of three questions decoded as one batch, 6 tokens each: the count moves
    with the decode steps (2 of 6 steps: a third of the batch, one question's worth) before
    the chunk commits; it never goes back and ends at the commit."""
    from tests.helpers import query as _query
    from workbench import api
    from workbench.api import GenerateRequest

    seen = []
    db = tmp_path / "wb.duckdb"
    api.generate(GenerateRequest(str(tiny_model), str(small_dataset), samples=2, shots=2,
                                 max_new_tokens=6, chunk_size=3), db_path=db,
                 mlflow_uri=mlflow_uri, progress=lambda done, total: seen.append((done, total)))
    steps = max(n for (n,) in _query(db, "SELECT n_tokens FROM samples"))  # the batch's
    assert steps == 6  # the tiny model's rows run to the budget here, so every step is taken
    assert seen == [(1, 3), (2, 3), (3, 3)], seen
