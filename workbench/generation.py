"""Stage 1: sample M answers per question from a model variant and store one row per sample.

Everything that can be wrong with the request (dataset, parameters, model) is checked before the
store is touched. Samples are committed a chunk of questions at a time, so a crash loses at most
the chunk in flight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__, config, datasets, db, models, prompts, store
from .sampler import LocalSampler, SamplingParams
from .tracking import Tracker, experiment_name, git_sha

Progress = Callable[[int, int], None]

DEFAULT_MAX_NEW_TOKENS = {"concise": 16, "sentence": 40, "cot": 160}


@dataclass(frozen=True)
class GenerateRequest:
    model: str
    dataset: str
    style: str = "concise"
    samples: int = 20
    shots: int | None = None  # default: 5 for completion prompts, 0 for chat
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int | None = None
    seed: int = 0
    prompt_format: str | None = None  # completion | chat; inferred from the model
    kind: str | None = None  # base | sft | rl | reasoning; inferred for bundled models
    skip_bad_rows: bool = False


def generate(req: GenerateRequest, *, db_path: Path | None = None, mlflow_uri: str | None = None,
             progress: Progress | None = None, log: Callable[[str], None] = lambda s: None) -> str:
    """Run the generation stage; returns the new run id."""
    ds = datasets.load(req.dataset, skip_bad_rows=req.skip_bad_rows)
    if req.style not in prompts.STYLES:
        raise ValueError(f"--style {req.style!r} is not one of {', '.join(prompts.STYLES)}")
    info = models.resolve(req.model, kind=req.kind, prompt_format=req.prompt_format)
    shots = req.shots if req.shots is not None else (5 if info.prompt_format == "completion" else 0)
    plan = prompts.PromptPlan(req.style, info.prompt_format, shots, req.seed)
    params = SamplingParams(
        n=req.samples, temperature=req.temperature, top_p=req.top_p, top_k=req.top_k,
        max_new_tokens=req.max_new_tokens or DEFAULT_MAX_NEW_TOKENS[req.style],
        stop=plan.stop, seed=req.seed)
    log(f"loading {info.name} ({info.kind}, {info.prompt_format} prompts)")
    model, tokenizer = models.load(info)
    sampler = LocalSampler(model, tokenizer)
    # Build every prompt before the store is touched: a bad plan fails here.
    built = [(q, prompts.build_prompt(plan, ds, q, tokenizer)) for q in ds.questions]

    db_path = config.db_path(db_path)
    con = db.connect(db_path)
    try:
        return _run(con, db_path, mlflow_uri, req, ds, info, plan, params, sampler, built,
                    progress)
    finally:
        con.close()


def _run(con, db_path, mlflow_uri, req, ds, info, plan, params, sampler, built, progress):
    ds_id = store.ensure_dataset(con, ds)
    run_id = store.new_id("run")
    with store.transaction(con):
        store.insert_rows(con, "runs", [dict(
            run_id=run_id, status="RUNNING", model=info.name, model_source=info.source,
            model_kind=info.kind, prompt_format=info.prompt_format, backend="transformers",
            style=plan.style, shots=plan.shots, dataset_id=ds_id, n_questions=len(built),
            samples_per_question=params.n, temperature=params.temperature, top_p=params.top_p,
            top_k=params.top_k, max_new_tokens=params.max_new_tokens, stop=list(params.stop),
            seed=params.seed, package_version=__version__, git_sha=git_sha())])
        store.insert_rows(con, "run_questions", [
            dict(run_id=run_id, question_id=q.id, position=i) for i, (q, _) in enumerate(built)])
    tracker = Tracker(config.mlflow_uri(db_path, mlflow_uri), config.artifacts_dir(db_path))
    mlflow_params = dict(
        stage="generate", run_id=run_id, model=info.name, model_kind=info.kind,
        prompt_format=info.prompt_format, style=plan.style, shots=plan.shots,
        dataset=ds.name, dataset_id=ds_id, n_questions=len(built), samples=params.n,
        temperature=params.temperature, top_p=params.top_p, top_k=params.top_k,
        max_new_tokens=params.max_new_tokens, seed=params.seed, backend="transformers")
    try:
        with tracker.stage(experiment_name(ds.name), f"generate {info.name} {plan.style}",
                           mlflow_params, {"workbench.run_id": run_id,
                                           "workbench.stage": "generate"}) as ml:
            store.set_mlflow_run(con, "runs", "run_id", run_id, ml.run_id)
            stats = _sample_all(con, run_id, sampler, plan, params, built, progress)
            ml.log_metrics(stats)
        store.set_status(con, "runs", "run_id", run_id, "FINISHED")
    except BaseException as exc:
        store.set_status(con, "runs", "run_id", run_id, "FAILED", repr(exc)[:2000])
        raise
    return run_id


def _sample_all(con, run_id, sampler, plan, params, built, progress, chunk: int = 8) -> dict:
    """Sample fixed chunks of questions (by position) and commit each chunk's rows at once.

    Chunks depend only on the run's question order, so the same seed gives the same samples.
    """
    add_special = plan.prompt_format == "completion"  # chat templates carry their own BOS
    n_tokens = n_samples = n_length = 0
    start = time.perf_counter()
    for lo in range(0, len(built), chunk):
        part = built[lo:lo + chunk]
        items = [(q.id, sampler.encode(prompt, add_special_tokens=add_special))
                 for q, prompt in part]
        results = sampler.sample_batch(items, params)
        rows = [dict(run_id=run_id, question_id=q.id, sample_idx=i, prompt=prompt, text=c.text,
                     n_tokens=c.n_tokens, logprob=c.logprob, finish_reason=c.finish_reason,
                     latency_s=c.latency_s)
                for (q, prompt), completions in zip(part, results)
                for i, c in enumerate(completions)]
        with store.transaction(con):
            store.insert_rows(con, "samples", rows)
        n_samples += len(rows)
        n_tokens += sum(r["n_tokens"] for r in rows)
        n_length += sum(r["finish_reason"] == "length" for r in rows)
        if progress:
            progress(lo + len(part), len(built))
    elapsed = time.perf_counter() - start
    return {"samples": n_samples, "generated_tokens": n_tokens, "seconds": elapsed,
            "samples_per_s": n_samples / elapsed if elapsed else 0.0,
            "tokens_per_s": n_tokens / elapsed if elapsed else 0.0,
            "truncated_share": n_length / n_samples if n_samples else 0.0}
