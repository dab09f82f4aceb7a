"""Stage 1: sample M answers per question from a model variant and store one row per sample.

Everything that can be wrong with a request (dataset, parameters, the backend's settings, the
few-shot pool) is checked before the model loads, and the model loads before the store is
touched. Questions are sampled in fixed chunks by position, and each chunk's rows are committed
at once, keyed by (run, question, sample index): a crash loses at most the chunk in flight, and
``resume`` redoes exactly the missing chunks. Because each chunk and each question's random
generator depend only on the run's settings, a resumed run holds the same samples as an
uninterrupted one.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from .. import __version__, data, prompts
from ..backends.base import KINDS, BackendConfig, ModelInfo, Sampler, SamplingParams
from ..backends.transformers import variants
from ..data.types import Dataset, Question
from ..errors import StageError, UsageError, WorkbenchError
from ..grading import judges
from ..grading.rows import grade_questions
from ..lifecycle import faults
from ..lifecycle.context import Context, check_writable, open_context, stage
from ..lifecycle.lineage import record_lineage
from ..lifecycle.request import RUN_COLUMNS, GenerateRequest, run_model
from ..store import queries, records
from ..tracking import git_sha

Progress = Callable[[int, int], None]
Log = Callable[[str], None]

# The share of samples that hit their token budget above which a run says so when it ends: a
# low smECE then may only mean many questions went unanswered.
TRUNCATED_WARNING = 0.10


@dataclass
class Job:
    """Everything needed to sample a run's questions."""

    info: ModelInfo
    plan: prompts.PromptPlan
    params: SamplingParams
    built: list[tuple[Question, str, object]]  # in run order: question, stored prompt, request
    chunk_size: int
    sampler: Sampler
    backend: BackendConfig
    lineage: dict | None = None  # a tuned variant sampled locally: its lineage (``tune``)
    log: Log = lambda s: None

    def chunks(self):
        c = self.chunk_size
        return [self.built[i:i + c] for i in range(0, len(self.built), c)]


def generate(req: GenerateRequest, *, db_path: Path | None = None, mlflow_uri: str | None = None,
             progress: Progress | None = None, log: Log = lambda s: None) -> str:
    """Run the generation stage; returns the run id (an existing one when resuming)."""
    check_writable(db_path, mlflow_uri)
    ds, job = _planned(req, None, log)
    with open_context(db_path, mlflow_uri) as ctx:
        if req.resume:
            with ctx.writer.session() as con:
                found = queries.unfinished_twin(con, _run_row(job, ds.dataset_id))
            if found:
                log(f"resuming {found}")
                _resume(ctx, found, job, progress)
                return found
        return _new_run(ctx, ds, job, progress, req.cell_key)


def preview(req: GenerateRequest, *, questions: int = 2, samples: int = 2, judge: str = "exact",
            log: Log = lambda s: None) -> list[dict]:
    """The run ``req`` asks for, tried on its first ``questions`` questions with ``samples``
    samples each, and nothing stored: per question its prompt as the run would store it, and
    each sample with the answer the map B reads, its class and the rule judge's verdict."""
    if questions < 1 or samples < 1:
        raise UsageError("questions" if questions < 1 else "samples",
                         f"must be ≥ 1, got {min(questions, samples)}")
    if judge not in judges.RULES:
        raise UsageError("judge", f"{judge!r}: a preview grades with a rule judge "
                                  f"({', '.join(judges.RULES)})")
    ds, job = _planned(req, (questions, samples), log)
    results = job.sampler.sample([(q.id, request) for q, _, request in job.built], job.params)
    failed = [(q.id, r) for (q, *_), r in zip(job.built, results) if isinstance(r, Exception)]
    if failed:
        raise StageError(f"question {failed[0][0]}: {failed[0][1]}")
    asked = {q.id: {"question": q.question, "answers": list(q.answers),
                    "answer_type": q.answer_type, "groups": q.alias_groups()}
             for q, *_ in job.built}
    texts = {q.id: [(c.text, c.finish_reason) for c in out]
             for (q, *_), out in zip(job.built, results)}
    sample_rows, class_rows, _ = grade_questions("preview", judges.get(judge), req.style, asked,
                                                 texts)
    classes = {(r["question_id"], r["class_id"]): r for r in class_rows}
    out = []
    for q, prompt, _ in job.built:
        samples = []
        for (text, finish), r in zip(texts[q.id],
                                     [r for r in sample_rows if r["question_id"] == q.id]):
            cls = classes.get((q.id, r["class_id"]), {})  # none: the sample gave no answer
            samples.append({"text": text, "finish_reason": finish, "answer": r["extracted"],
                            "class": cls.get("canonical"), "correct": cls.get("correct")})
        out.append({"question_id": q.id, "question": q.question, "gold": list(q.answers),
                    "prompt": prompt, "samples": samples})
    return out


def _planned(req: GenerateRequest, trial: tuple[int, int] | None, log: Log):
    """The dataset and the job a request asks for, checked, the backend opened; ``trial``
    (questions, samples): only that many of each (a preview)."""
    ds = data.load(req.dataset, skip_bad_rows=req.skip_bad_rows)
    if ds.note:
        log(ds.note)
    if req.style not in prompts.STYLES:
        raise UsageError("style", f"{req.style!r} is not one of {', '.join(prompts.STYLES)}")
    if req.kind is not None and req.kind not in KINDS:
        raise UsageError("kind", f"{req.kind!r} is not one of {', '.join(KINDS)}")
    req.backend.validate()
    req.check()
    info = req.backend.resolve(req.model, req.kind, req.prompt_format)
    shots = req.shots if req.shots is not None else (5 if info.prompt_format == "completion" else 0)
    plan = prompts.PromptPlan(req.style, info.prompt_format, shots, req.seed)
    params = SamplingParams(
        n=req.samples, temperature=req.temperature, top_p=req.top_p, top_k=req.top_k,
        max_new_tokens=prompts.max_new_tokens(req.style, info.kind, req.max_new_tokens,
                                              info.prompt_format),
        stop=plan.stop, seed=req.seed)
    asked = ds.questions
    if trial is not None:
        asked, params = asked[:trial[0]], replace(params, n=trial[1])
    return ds, _prepare(req.backend.settle(info), info, ds, asked, plan, params,
                        req.chunk_size, log)


def resume(run_id: str, *, db_path: Path | None = None, mlflow_uri: str | None = None,
           progress: Progress | None = None, log: Log = lambda s: None) -> str:
    """Finish a run that stopped part-way: sample only its missing chunks."""
    check_writable(db_path, mlflow_uri, existing=True)
    with open_context(db_path, mlflow_uri) as ctx:
        with ctx.writer.session() as con:
            run = queries.one(con, "run", run_id)
            ds, questions = queries.stored_dataset(con, run)
        if run["status"] == "FINISHED":
            log(f"{run_id} is already FINISHED")
            return run_id
        backend, info = run_model(run, "resuming would mix two models; start a new run")
        plan = prompts.PromptPlan(run["style"], run["prompt_format"], run["shots"], run["seed"])
        params = SamplingParams(
            n=run["samples_per_question"], temperature=run["temperature"], top_p=run["top_p"],
            top_k=run["top_k"], max_new_tokens=run["max_new_tokens"], stop=tuple(run["stop"]),
            seed=run["seed"])
        job = _prepare(backend, info, ds, questions, plan, params, run["chunk_size"] or 8, log)
        _resume(ctx, run_id, job, progress)
        return run_id


def _prepare(backend: BackendConfig, info: ModelInfo, ds: Dataset, questions, plan, params,
             chunk_size: int, log: Log) -> Job:
    """Check what is left to check, then open the backend (the model loads last) and build every
    prompt."""
    if chunk_size <= 0:
        raise UsageError("chunk_size", f"must be ≥ 1, got {chunk_size}")
    prompts.check_pool(ds, plan.shots)
    backend.check(info, params)
    lineage = variants.lineage(info.source) if backend.name == "transformers" else None
    if lineage:
        _warn_trained_on(info.name, lineage, questions, log)
    sampler = backend.open(info, log)
    note = sampler.provenance(params)["sampling_note"]
    if note:
        log(f"warning: {note}")
    built = [(q, *sampler.request(plan, ds, q)) for q in questions]
    return Job(info, plan, params, built, chunk_size, sampler, backend, lineage, log)


def _run_row(job: Job, dataset_id: str) -> dict:
    info, plan, p = job.info, job.plan, job.params
    record = job.backend.record()
    return dict(
        model=info.name, model_source=info.source, model_kind=info.kind,
        prompt_format=info.prompt_format, backend=job.backend.name, style=plan.style,
        shots=plan.shots, dataset_id=dataset_id, n_questions=len(job.built),
        samples_per_question=p.n, temperature=p.temperature, top_p=p.top_p, top_k=p.top_k,
        max_new_tokens=p.max_new_tokens, stop=list(p.stop), seed=p.seed,
        chunk_size=job.chunk_size, backend_config=json.dumps(record, sort_keys=True),
        **{k: record.get(k) for k in RUN_COLUMNS}, **job.sampler.provenance(p),
        tuning_id=(job.lineage or {}).get("tuning_id"))


def _warn_trained_on(name: str, lineage: dict, questions, log: Log) -> None:
    """A tuned variant asked questions it was trained on measures memory, not calibration:
    say so (the run goes on; it may be what the user wants)."""
    try:
        trained = {q.question for q in data.load(lineage["dataset"]).questions}
    except WorkbenchError:
        return
    seen = sum(q.question in trained for q in questions)
    if seen:
        log(f"warning: {seen} of the {len(questions)} questions were in the training data "
            f"of {name} ({lineage['dataset']})")


def _new_run(ctx: Context, ds: Dataset, job: Job, progress, cell_key: str | None = None
             ) -> str:
    run_id = records.new_id("run")
    if job.lineage:  # the variant's lineage in this store, before a run points at it
        record_lineage(ctx, job.lineage, Path(job.info.source))
    with ctx.writer.transaction() as con:
        ds_id = records.ensure_dataset(con, ds)
        row = {"run_id": run_id, **_run_row(job, ds_id), "package_version": __version__,
               "git_sha": git_sha(), "cell_key": cell_key}
        records.create_run(con, row, [q.id for q, *_ in job.built])
    with stage(ctx, "runs", run_id):
        stats = _sample_missing(ctx, run_id, job, progress)
        with ctx.writer.session() as con:
            records.set_stats(con, "runs", run_id, stats)
    return run_id


def _resume(ctx: Context, run_id: str, job: Job, progress) -> None:
    with ctx.writer.transaction() as con:
        run = queries.one(con, "run", run_id)
        stored = queries.stored_prompts(con, run_id)
        for q, prompt, _ in job.built:
            if q.id in stored and stored[q.id] != prompt:
                raise StageError(
                    f"run {run_id}: the prompt for question {q.id} would differ from the stored "
                    "one (the code or the model's template changed), so resuming would mix two "
                    "prompt versions; start a new run")
        records.reopen_run(con, run_id)
    with stage(ctx, "runs", run_id):
        stats = _sample_missing(ctx, run_id, job, progress)
        earlier = json.loads(run.get("stats") or "{}")
        with ctx.writer.session() as con:
            records.set_stats(con, "runs", run_id,
                              {**earlier, **{f"resumed_{k}": v for k, v in stats.items()}})


def _watch_chunk(sampler, progress, before: int, size: int, total: int) -> None:
    """Progress inside a chunk: questions sampled but not yet committed move the count (a long
    CoT chunk showed nothing until its commit), the chunk's last is reported at its commit."""
    if not hasattr(sampler, "on_sampled") or progress is None:
        return
    seen, said, lock = [0.0], [0], threading.Lock()  # a remote sampler's threads report

    def sampled(k: float) -> None:  # k: questions' worth, a share of a batch while it decodes
        with lock:
            seen[0] += k
            whole = int(seen[0] + 1e-9)
            if said[0] < whole < size:
                said[0] = whole
                progress(before + whole, total)
    sampler.on_sampled = sampled


def _sample_missing(ctx: Context, run_id: str, job: Job, progress) -> dict:
    """Sample every chunk that lacks any of its rows, replacing what little it had, and commit
    each chunk in one transaction. A chunk with a question that failed for good (a remote
    server's error after its retries) is not committed; the run then ends FAILED naming the
    errors, and `resume` samples those chunks again."""
    with ctx.writer.session() as con:
        stored = queries.stored_counts(con, run_id)
    todo = [c for c in job.chunks() if any(stored.get(q.id, 0) != job.params.n for q, *_ in c)]
    before = dict(job.sampler.stats)
    n_tokens = n_samples = n_length = 0
    failures: list[str] = []
    done_questions = len(job.built) - sum(len(c) for c in todo)
    start = time.perf_counter()
    for part in todo:
        _watch_chunk(job.sampler, progress, done_questions, len(part), len(job.built))
        results = job.sampler.sample([(q.id, request) for q, _, request in part], job.params)
        errors = [(q.id, r) for (q, *_), r in zip(part, results) if isinstance(r, Exception)]
        if errors:
            failures += [f"{qid}: {exc}" for qid, exc in errors]
            continue
        rows = [dict(run_id=run_id, question_id=q.id, sample_idx=i, text=c.text,
                     n_tokens=c.n_tokens, logprob=c.logprob, finish_reason=c.finish_reason,
                     latency_s=c.latency_s, endpoint=c.endpoint)
                for (q, *_), completions in zip(part, results)
                for i, c in enumerate(completions)]
        with ctx.writer.transaction() as con:
            records.replace_samples(con, run_id, {q.id: prompt for q, prompt, _ in part}, rows)
        n_samples += len(rows)
        n_tokens += sum(r["n_tokens"] or 0 for r in rows)
        n_length += sum(r["finish_reason"] == "length" for r in rows)
        done_questions += len(part)
        if progress:
            progress(done_questions, len(job.built))
        faults.after_chunk()
    elapsed = time.perf_counter() - start
    used = {k: job.sampler.stats[k] - before.get(k, 0) for k in job.sampler.stats}
    with ctx.writer.session() as con:
        records.add_tokens(con, run_id, used.get("prompt_tokens", 0),
                           used.get("completion_tokens", 0))
    if n_samples and n_length / n_samples > TRUNCATED_WARNING:
        job.log(f"warning: {n_length / n_samples:.1%} of this run's samples hit the "
                f"{job.params.max_new_tokens}-token budget before they ended; one cut off "
                "before its answer counts as no answer (--max-new-tokens)")
    if failures:
        raise StageError(f"{len(failures)} question(s) failed and were not stored "
                         f"(`workbench resume {run_id}` retries them): "
                         + "; ".join(failures[:5]))
    return {"samples": n_samples, "chunks": len(todo), "generated_tokens": n_tokens,
            "seconds": elapsed,
            "samples_per_s": n_samples / elapsed if elapsed else 0.0,
            "tokens_per_s": n_tokens / elapsed if elapsed else 0.0,
            "truncated_share": n_length / n_samples if n_samples else 0.0, **used}
