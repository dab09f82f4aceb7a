"""Sampling throughput: the workbench sampler vs plain `generate` vs llama.cpp vs vLLM, in one run.

    .venv/bin/python benchmarks/sampling.py [--model gemma-3-270m] [--questions 5] [--samples 20]
    .venv-vllm/bin/python benchmarks/sampling.py --vllm      # the vLLM row too (make vllm-setup)
    .venv-vllm/bin/python benchmarks/sampling.py --vllm --style cot --max-new-tokens 128

All three sample the same prompts (k-shot completion prompts from a bundled dataset) at
temperature 1 with no top-k / top-p, at most --max-new-tokens tokens, stopping at a newline:
(a) the workbench sampler (shared prompt cache, questions batched, finished rows dropped);
(b) plain transformers: per question, generate(num_return_sequences=M, stop_strings=["\\n"]);
(c) llama.cpp through llama-cpp-python, one sample at a time with its prompt cache, on the
    bundled model's GGUF (quantized weights; skipped with a note when not installed);
(d) with --vllm, the ``vllm`` backend's sampler: vLLM's offline engine, n = M per question, all
    questions in one call, prefix caching on (bfloat16). Its start-up (engine and weights) is
    timed apart: it is paid once per run, and decides when the engine pays off.
Prints samples/s, tokens/s, the ratios, and the useful FLOP/s reached as a share of the measured
fp32 matmul peak (useful work: each prompt once, then each sampled token).
"""

from __future__ import annotations

import argparse
import time

import torch

from workbench import data as datasets
from workbench import prompts
from workbench.backends.base import SamplingParams
from workbench.backends.transformers import models
from workbench.backends.transformers.device import resolve_device
from workbench.backends.transformers.tokens import TokenSampler


def matmul_peak(n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - start)


def flops_per_token(model) -> tuple[float, float]:
    """(body FLOPs per token, head FLOPs per token): 2 per multiply-add."""
    emb = model.get_input_embeddings().weight.numel()
    body = sum(p.numel() for p in model.parameters()) - emb
    if not getattr(model.config, "tie_word_embeddings", False):
        body -= model.get_output_embeddings().weight.numel()
    return 2.0 * body, 2.0 * emb


def run_workbench(sampler, items, params):
    start = time.perf_counter()
    out = sampler.sample_batch(items, params)
    elapsed = time.perf_counter() - start
    return elapsed, sum(c.n_tokens for cs in out for c in cs), sum(len(cs) for cs in out)


def run_plain(model, tok, items, params):
    start = time.perf_counter()
    tokens = samples = 0
    eos = {model.generation_config.eos_token_id} if isinstance(
        model.generation_config.eos_token_id, int) else set(model.generation_config.eos_token_id)
    pad = tok.pad_token_id if tok.pad_token_id is not None else next(iter(eos))
    for _, ids in items:
        with torch.inference_mode():
            out = model.generate(torch.tensor([ids], device=model.device), do_sample=True,
                                 temperature=1.0, top_k=0, top_p=1.0,
                                 num_return_sequences=params.n,
                                 max_new_tokens=params.max_new_tokens,
                                 stop_strings=list(params.stop), tokenizer=tok, pad_token_id=pad)
        gen = out[:, len(ids):]
        for row in gen.tolist():
            n = 0
            for t in row:
                n += 1
                if t in eos or any(s in tok.decode(row[:n]) for s in params.stop):
                    break
            tokens += n
            samples += 1
    return time.perf_counter() - start, tokens, samples


def run_llama_cpp(gguf: str, texts: list[str], params):
    try:
        from llama_cpp import Llama, LlamaRAMCache
    except ImportError:
        return None
    llm = Llama(model_path=gguf, n_ctx=2048, n_threads=torch.get_num_threads(), seed=0,
                verbose=False)
    llm.set_cache(LlamaRAMCache())
    start = time.perf_counter()
    tokens = samples = 0
    for text in texts:
        for _ in range(params.n):
            r = llm.create_completion(text, max_tokens=params.max_new_tokens, temperature=1.0,
                                      top_k=0, top_p=1.0, min_p=0.0, stop=["\n"])
            tokens += r["usage"]["completion_tokens"]
            samples += 1
    return time.perf_counter() - start, tokens, samples


def run_vllm(info, texts, params, dtype: str):
    """(start-up seconds, (seconds, tokens, samples)) for the vllm backend's sampler."""
    from workbench.backends.vllm import Config
    from workbench.backends.vllm.sampler import VLLMSampler

    start = time.perf_counter()
    cfg = Config(dtype=dtype).settle(info)
    sampler = VLLMSampler.load(info, cfg)
    startup = time.perf_counter() - start
    items = [(f"q{i}", t) for i, t in enumerate(texts)]
    sampler.sample(items[:1], SamplingParams(n=2, max_new_tokens=2))  # warm-up
    start = time.perf_counter()
    out = sampler.sample(items, params)
    return startup, (time.perf_counter() - start, sum(c.n_tokens for cs in out for c in cs),
                     sum(len(cs) for cs in out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--dataset", default="bundled:capitals")
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--max-new-tokens", type=int, default=10)
    ap.add_argument("--shots", type=int, default=2)
    ap.add_argument("--style", default="concise", help="concise | sentence | cot")
    ap.add_argument("--skip-plain", action="store_true")
    ap.add_argument("--vllm", action="store_true", help="also time the vllm backend (run "
                    "from .venv-vllm)")
    ap.add_argument("--skip-llama", action="store_true")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads [default: torch's choice, one per core]")
    ap.add_argument("--device", default="cpu", help="cpu | cuda[:N] | mps | auto (the "
                    "'of peak' column is the CPU's fp32 matmul peak)")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True,
                    help="also time the workbench sampler with bfloat16 weights")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    info = models.resolve(args.model)
    device = resolve_device(args.device)
    model, tok = models.load(info, "float32", device)
    ds = datasets.load(f"{args.dataset}@{args.questions}")
    plan = prompts.PromptPlan(args.style, "completion", args.shots)
    texts = [prompts.build_prompt(plan, ds, q, tok) for q in ds.questions]
    sampler = TokenSampler(model, tok)
    items = [(q.id, sampler.encode(t)) for q, t in zip(ds.questions, texts)]
    params = SamplingParams(n=args.samples, max_new_tokens=args.max_new_tokens, stop=plan.stop)
    body, head = flops_per_token(model)
    prompt_tokens = sum(len(ids) for _, ids in items)
    peak = matmul_peak()
    print(f"model {info.name} on {device}; {args.questions} questions x {args.samples} "
          f"samples, {args.style}, at most {args.max_new_tokens} new tokens, stop at "
          f"{list(plan.stop)}, "
          f"{args.shots}-shot prompts ({prompt_tokens} prompt tokens); torch threads "
          f"{torch.get_num_threads()}; fp32 matmul peak {peak / 1e9:.0f} GFLOP/s")

    run_workbench(sampler, items[:1], SamplingParams(n=2, max_new_tokens=2))  # warm-up
    results = {"workbench": run_workbench(sampler, items, params)}
    if args.bf16:
        bf16 = TokenSampler(*models.load(info, "bfloat16", device))
        run_workbench(bf16, items[:1], SamplingParams(n=2, max_new_tokens=2))
        results["workbench bfloat16"] = run_workbench(bf16, items, params)
    if not args.skip_plain:
        results["transformers generate"] = run_plain(model, tok, items, params)
    gguf = models.BUNDLED[info.name].gguf_path() if info.name in models.BUNDLED else None
    llama = run_llama_cpp(str(gguf), texts, params) if gguf and not args.skip_llama else None
    if llama:
        results["llama.cpp"] = llama
    else:
        print("llama.cpp: skipped (pip install llama-cpp-python to compare; it compiles "
              "llama.cpp, ~9 min here)")

    if args.vllm:
        startup, results["vllm bfloat16"] = run_vllm(info, texts, params, "bfloat16")
        print(f"vllm start-up (engine and weights): {startup:.1f} s, paid once per run")

    print(f"{'method':24} {'samples':>8} {'tokens':>7} {'seconds':>8} {'samples/s':>10} "
          f"{'tokens/s':>9} {'useful GFLOP/s':>15} {'of peak':>8}")
    for name, (secs, tokens, samples) in results.items():
        useful = prompt_tokens * body + tokens * (body + head)
        print(f"{name:24} {samples:8d} {tokens:7d} {secs:8.2f} {samples / secs:10.2f} "
              f"{tokens / secs:9.1f} {useful / secs / 1e9:15.1f} {useful / secs / peak:8.1%}")
    rate = {name: samples / secs for name, (secs, _, samples) in results.items()}
    for ours in ("workbench", "workbench bfloat16"):
        for peer in ("transformers generate", "llama.cpp", "vllm bfloat16"):
            if ours in rate and peer in rate:
                print(f"{ours} / {peer}: {rate[ours] / rate[peer]:.2f}x samples/s")


if __name__ == "__main__":
    main()
