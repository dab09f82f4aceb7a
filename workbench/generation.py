"""Stage 1: sample M answers per question from a model variant and store one row per sample.

Everything that can be wrong with a request (dataset, parameters, model) is checked before the
store is touched. Questions are sampled in fixed chunks by position, and each chunk's rows are
committed at once, keyed by (run, question, sample index): a crash loses at most the chunk in
flight, and ``resume`` redoes exactly the missing chunks. Because each chunk and each question's
random generator depend only on the run's settings, a resumed run holds the same samples as an
uninterrupted one.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__, datasets, models, prompts, store
from .datasets import Dataset, Question
from .recovery import ensure_writable, open_writer
from .sampler import LocalSampler, SamplingParams
from .tracking import Tracker, experiment_name, git_sha, variant_tags

Progress = Callable[[int, int], None]

DEFAULT_MAX_NEW_TOKENS = {"concise": 16, "sentence": 40, "cot": 160}


class ResumeError(RuntimeError):
    pass


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
    chunk_size: int = 8  # questions sampled (and committed) together
    dtype: str = "float32"  # float32 | bfloat16
    backend: str = "transformers"  # transformers | openai
    base_url: str | None = None  # openai: the server, e.g. http://127.0.0.1:8000/v1
    api_key_env: str = "OPENAI_API_KEY"  # openai: the variable holding the key
    endpoint: str | None = None  # openai: chat | completions (default: by prompt format)
    concurrency: int = 4  # openai: requests in flight
    request_timeout: float = 60.0  # openai: seconds per request
    max_retries: int = 5  # openai
    resume: bool = False  # finish the newest unfinished run with these settings, if any


@dataclass(frozen=True)
class Backend:
    """Where samples come from: the local transformers sampler or an OpenAI-compatible server
    (the key is read from ``api_key_env``, never stored)."""

    kind: str = "transformers"
    base_url: str | None = None
    endpoint: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    timeout: float = 60.0
    max_retries: int = 5


@dataclass
class Job:
    """Everything needed to sample a run's questions."""

    info: models.ModelInfo
    plan: prompts.PromptPlan
    params: SamplingParams
    built: list[tuple[Question, str, object]]  # in run order: question, stored prompt, request
    chunk_size: int
    sampler: object  # LocalSampler | RemoteSampler
    dtype: str = "float32"
    backend: Backend = Backend()

    def chunks(self):
        c = self.chunk_size
        return [self.built[i:i + c] for i in range(0, len(self.built), c)]

    def sample(self, items):
        if self.backend.kind == "openai":
            return self.sampler.sample_prompts(items, self.params)
        # Chat templates carry their own BOS; completion prompts get the tokenizer's.
        return self.sampler.sample_prompts(items, self.params,
                                           self.plan.prompt_format == "completion")


def _prepare(info: models.ModelInfo, ds: Dataset, questions, plan, params, chunk_size,
             dtype, log, backend: Backend = Backend()) -> Job:
    if chunk_size <= 0:
        raise ValueError(f"--batch-questions must be ≥ 1, got {chunk_size}")
    if backend.kind == "openai":
        from .remote import RemoteConfig, RemoteSampler, RetryPolicy

        key = os.environ.get(backend.api_key_env)
        if not key:
            raise ValueError(f"--backend openai reads its key from ${backend.api_key_env}, "
                             "which is not set (name another with --api-key-env)")
        cfg = RemoteConfig(backend.base_url, key, backend.endpoint, backend.concurrency,
                           backend.timeout, RetryPolicy(max_retries=backend.max_retries))
        sampler = RemoteSampler(cfg, info.name, seed=params.seed)
        built = []
        for q in questions:
            shots = prompts.exemplars(ds, q, plan.shots, plan.seed)
            if plan.prompt_format == "chat":
                messages = prompts.chat_messages(q, shots, plan.style)
                built.append((q, json.dumps(messages, ensure_ascii=False), messages))
            else:
                text = prompts.completion_prompt(q, shots, plan.style)
                built.append((q, text, text))
        log(f"sampling {info.name} from {backend.base_url} ({backend.endpoint})")
        return Job(info, plan, params, built, chunk_size, sampler, dtype, backend)
    log(f"loading {info.name} ({info.kind}, {info.prompt_format} prompts, {dtype})")
    model, tokenizer = models.load(info, dtype)
    built = []
    for q in questions:
        text = prompts.build_prompt(plan, ds, q, tokenizer)
        built.append((q, text, text))
    return Job(info, plan, params, built, chunk_size, LocalSampler(model, tokenizer), dtype)


def _backend(req: GenerateRequest, prompt_format: str) -> Backend:
    if req.backend == "transformers":
        return Backend()
    if req.backend != "openai":
        raise ValueError(f"--backend {req.backend!r}: use transformers or openai")
    if not req.base_url:
        raise ValueError("--backend openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
    if req.concurrency <= 0 or req.request_timeout <= 0 or req.max_retries < 0:
        raise ValueError("--concurrency and --timeout must be > 0, --max-retries ≥ 0")
    endpoint = req.endpoint or ("chat" if prompt_format == "chat" else "completions")
    if endpoint not in ("chat", "completions"):
        raise ValueError(f"--endpoint {endpoint!r}: use chat or completions")
    return Backend("openai", req.base_url, endpoint, req.api_key_env, req.concurrency,
                   req.request_timeout, req.max_retries)


def generate(req: GenerateRequest, *, db_path: Path | None = None, mlflow_uri: str | None = None,
             progress: Progress | None = None, log: Callable[[str], None] = lambda s: None) -> str:
    """Run the generation stage; returns the run id (an existing one when resuming)."""
    ensure_writable(db_path)
    ds = datasets.load(req.dataset, skip_bad_rows=req.skip_bad_rows)
    if req.style not in prompts.STYLES:
        raise ValueError(f"--style {req.style!r} is not one of {', '.join(prompts.STYLES)}")
    if req.backend == "openai":  # a served model: nothing to resolve locally
        fmt = req.prompt_format or ("chat" if req.endpoint == "chat" or models.looks_chat(
            req.model) else "completion")
        info = models.ModelInfo(req.model, req.base_url or "", req.kind or (
            "sft" if fmt == "chat" else "base"), fmt)
    else:
        info = models.resolve(req.model, kind=req.kind, prompt_format=req.prompt_format)
    backend = _backend(req, info.prompt_format)
    shots = req.shots if req.shots is not None else (5 if info.prompt_format == "completion" else 0)
    plan = prompts.PromptPlan(req.style, info.prompt_format, shots, req.seed)
    params = SamplingParams(
        n=req.samples, temperature=req.temperature, top_p=req.top_p, top_k=req.top_k,
        max_new_tokens=req.max_new_tokens or DEFAULT_MAX_NEW_TOKENS[req.style],
        stop=plan.stop, seed=req.seed)
    # The model loads and every prompt is built before the store is touched.
    job = _prepare(info, ds, ds.questions, plan, params, req.chunk_size, req.dtype, log,
                   backend)

    con, path, uri = open_writer(db_path, mlflow_uri)
    try:
        if req.resume:
            found = _unfinished_twin(con, job, ds.dataset_id)
            if found:
                log(f"resuming {found}")
                _resume(con, path, uri, found, job, progress)
                return found
        return _new_run(con, path, uri, ds, job, progress)
    finally:
        con.close()


def resume(run_id: str, *, db_path: Path | None = None, mlflow_uri: str | None = None,
           progress: Progress | None = None, log: Callable[[str], None] = lambda s: None) -> str:
    """Finish a run that stopped part-way: sample only its missing chunks."""
    ensure_writable(db_path)
    con, path, uri = open_writer(db_path, mlflow_uri)
    try:
        run = store.one(con, "runs", "run_id", run_id)
        if run["status"] == "FINISHED":
            log(f"{run_id} is already FINISHED")
            return run_id
        ds, questions = _stored_dataset(con, run)
        info = (models.resolve(run["model"], run["model_kind"], run["prompt_format"])
                if run["model"] in models.BUNDLED and run["backend"] == "transformers" else
                models.ModelInfo(run["model"], run["model_source"], run["model_kind"],
                                 run["prompt_format"]))
        backend = Backend() if run["backend"] == "transformers" else Backend(
            "openai", run["base_url"], run["endpoint"], run["api_key_env"] or "OPENAI_API_KEY")
        plan = prompts.PromptPlan(run["style"], run["prompt_format"], run["shots"], run["seed"])
        params = SamplingParams(
            n=run["samples_per_question"], temperature=run["temperature"], top_p=run["top_p"],
            top_k=run["top_k"], max_new_tokens=run["max_new_tokens"], stop=tuple(run["stop"]),
            seed=run["seed"])
        job = _prepare(info, ds, questions, plan, params, run["chunk_size"] or 8,
                       run["dtype"] or "float32", log, backend)
        _resume(con, path, uri, run_id, job, progress)
        return run_id
    finally:
        con.close()


def _new_run(con, path, uri, ds: Dataset, job: Job, progress) -> str:
    ds_id = store.ensure_dataset(con, ds)
    run_id = store.new_id("run")
    info, plan, params = job.info, job.plan, job.params
    with store.transaction(con):
        store.insert_rows(con, "runs", [dict(
            run_id=run_id, status="RUNNING", model=info.name, model_source=info.source,
            model_kind=info.kind, prompt_format=info.prompt_format, backend=job.backend.kind,
            style=plan.style, shots=plan.shots, dataset_id=ds_id, n_questions=len(job.built),
            samples_per_question=params.n, temperature=params.temperature, top_p=params.top_p,
            top_k=params.top_k, max_new_tokens=params.max_new_tokens, stop=list(params.stop),
            seed=params.seed, package_version=__version__, git_sha=git_sha(),
            pid=os.getpid(), host=socket.gethostname(), chunk_size=job.chunk_size,
            dtype=job.dtype, base_url=job.backend.base_url, endpoint=job.backend.endpoint,
            api_key_env=job.backend.api_key_env if job.backend.kind == "openai" else None)])
        store.insert_rows(con, "run_questions", [
            dict(run_id=run_id, question_id=q.id, position=i)
            for i, (q, *_) in enumerate(job.built)])
    tracker = Tracker(uri, path.parent / "artifacts")
    mlflow_params = dict(
        stage="generate", run_id=run_id, model=info.name, model_kind=info.kind,
        prompt_format=info.prompt_format, style=plan.style, shots=plan.shots,
        dataset=ds.name, dataset_id=ds_id, n_questions=len(job.built), samples=params.n,
        temperature=params.temperature, top_p=params.top_p, top_k=params.top_k,
        max_new_tokens=params.max_new_tokens, seed=params.seed, backend=job.backend.kind,
        base_url=job.backend.base_url or "", endpoint=job.backend.endpoint or "",
        chunk_size=job.chunk_size, dtype=job.dtype)
    try:
        with tracker.stage(experiment_name(ds.name), f"generate {info.name} {plan.style}",
                           mlflow_params,
                           {"workbench.run_id": run_id, "workbench.stage": "generate",
                            **variant_tags(store.one(con, "runs", "run_id", run_id),
                                           ds.name)}) as ml:
            store.set_mlflow_run(con, "runs", "run_id", run_id, ml.run_id)
            ml.log_metrics(_sample_missing(con, run_id, job, progress))
        store.set_status(con, "runs", "run_id", run_id, "FINISHED")
    except BaseException as exc:
        store.set_status(con, "runs", "run_id", run_id, "FAILED", repr(exc)[:2000])
        raise
    return run_id


def _resume(con, path, uri, run_id: str, job: Job, progress) -> None:
    run = store.one(con, "runs", "run_id", run_id)
    _check_prompts(con, run_id, job)
    con.execute("UPDATE runs SET status = 'RUNNING', error = NULL, pid = ?, host = ? "
                "WHERE run_id = ?", [os.getpid(), socket.gethostname(), run_id])
    tracker = Tracker(uri, path.parent / "artifacts")
    try:
        with tracker.resume(run["mlflow_run_id"]) as ml:
            stats = _sample_missing(con, run_id, job, progress)
            ml.log_metrics({f"resumed_{k}": v for k, v in stats.items()})
        store.set_status(con, "runs", "run_id", run_id, "FINISHED")
    except BaseException as exc:
        store.set_status(con, "runs", "run_id", run_id, "FAILED", repr(exc)[:2000])
        raise


def _sample_missing(con, run_id: str, job: Job, progress) -> dict:
    """Sample every chunk that lacks any of its rows, replacing what little it had, and commit
    each chunk in one transaction. A chunk with a question that failed for good (a remote
    server's error after its retries) is not committed; the run then ends FAILED naming the
    errors, and `resume` samples those chunks again."""
    stored = dict(con.execute("SELECT question_id, count(*) FROM samples WHERE run_id = ? "
                              "GROUP BY question_id", [run_id]).fetchall())
    todo = [c for c in job.chunks() if any(stored.get(q.id, 0) != job.params.n for q, *_ in c)]
    before = dict(job.sampler.stats)
    n_tokens = n_samples = n_length = 0
    failures: list[str] = []
    done_questions = len(job.built) - sum(len(c) for c in todo)
    start = time.perf_counter()
    for part in todo:
        results = job.sample([(q.id, request) for q, _, request in part])
        errors = [(q.id, r) for (q, *_), r in zip(part, results) if isinstance(r, Exception)]
        if errors:
            failures += [f"{qid}: {exc}" for qid, exc in errors]
            continue
        rows = [dict(run_id=run_id, question_id=q.id, sample_idx=i, prompt=stored_prompt,
                     text=c.text, n_tokens=c.n_tokens, logprob=c.logprob,
                     finish_reason=c.finish_reason, latency_s=c.latency_s)
                for (q, stored_prompt, _), completions in zip(part, results)
                for i, c in enumerate(completions)]
        with store.transaction(con):
            ids = [q.id for q, *_ in part]
            con.execute("DELETE FROM samples WHERE run_id = ? AND list_contains(?, question_id)",
                        [run_id, ids])
            store.insert_rows(con, "samples", rows)
        n_samples += len(rows)
        n_tokens += sum(r["n_tokens"] or 0 for r in rows)
        n_length += sum(r["finish_reason"] == "length" for r in rows)
        done_questions += len(part)
        if progress:
            progress(done_questions, len(job.built))
    elapsed = time.perf_counter() - start
    used = {k: job.sampler.stats[k] - before.get(k, 0) for k in job.sampler.stats}
    con.execute("UPDATE runs SET prompt_tokens = coalesce(prompt_tokens, 0) + ?, "
                "completion_tokens = coalesce(completion_tokens, 0) + ? WHERE run_id = ?",
                [used.get("prompt_tokens", 0), used.get("completion_tokens", 0), run_id])
    if failures:
        raise SamplingFailed(f"{len(failures)} question(s) failed and were not stored "
                             f"(`workbench resume {run_id}` retries them): "
                             + "; ".join(failures[:5]))
    return {"samples": n_samples, "chunks": len(todo), "generated_tokens": n_tokens,
            "seconds": elapsed,
            "samples_per_s": n_samples / elapsed if elapsed else 0.0,
            "tokens_per_s": n_tokens / elapsed if elapsed else 0.0,
            "truncated_share": n_length / n_samples if n_samples else 0.0, **used}


class SamplingFailed(RuntimeError):
    pass


def _stored_dataset(con, run) -> tuple[Dataset, list[Question]]:
    """The run's dataset as stored (questions and few-shot pool), and its questions in order."""
    def question(r):
        return Question(r["question_id"], r["question"], tuple(r["answers"]), r["answer_type"],
                        r["sentence"], r["rationale"])

    rows = store.rows(con, "SELECT * FROM questions WHERE dataset_id = ? ORDER BY position",
                      [run["dataset_id"]])
    test = [question(r) for r in rows if r["split"] == "test"]
    pool = [question(r) for r in rows if r["split"] == "fewshot"]
    ds = Dataset(store.dataset_name(con, run["dataset_id"]), "store", tuple(test), tuple(pool))
    by_id = {q.id: q for q in test}
    order = [r[0] for r in con.execute("SELECT question_id FROM run_questions WHERE run_id = ? "
                                       "ORDER BY position", [run["run_id"]]).fetchall()]
    return ds, [by_id[q] for q in order]


def _check_prompts(con, run_id: str, job: Job) -> None:
    stored = dict(con.execute("SELECT question_id, any_value(prompt) FROM samples "
                              "WHERE run_id = ? GROUP BY question_id", [run_id]).fetchall())
    for q, prompt, _ in job.built:
        if q.id in stored and stored[q.id] != prompt:
            raise ResumeError(f"run {run_id}: the prompt for question {q.id} would differ from "
                              "the stored one (the code or the model's template changed), so "
                              "resuming would mix two prompt versions; start a new run")


def _unfinished_twin(con, job: Job, dataset_id: str) -> str | None:
    """The newest unfinished run with exactly these settings."""
    p, plan = job.params, job.plan
    found = store.first(con, """
        SELECT run_id FROM runs
        WHERE status <> 'FINISHED' AND model = ? AND prompt_format = ? AND style = ?
          AND shots = ? AND dataset_id = ? AND n_questions = ? AND samples_per_question = ?
          AND temperature = ? AND top_p = ? AND top_k = ? AND max_new_tokens = ? AND seed = ?
          AND coalesce(chunk_size, 8) = ? AND coalesce(dtype, 'float32') = ?
          AND backend = ? AND coalesce(base_url, '') = ?
        ORDER BY created_at DESC LIMIT 1""",
        [job.info.name, plan.prompt_format, plan.style, plan.shots, dataset_id, len(job.built),
         p.n, p.temperature, p.top_p, p.top_k, p.max_new_tokens, p.seed, job.chunk_size,
         job.dtype, job.backend.kind, job.backend.base_url or ""])
    return found[0] if found else None
