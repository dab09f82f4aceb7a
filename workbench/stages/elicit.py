"""Ask the run's own model how sure it is of each answer: one call per graded question about the
grading's plurality answer (``grading/elicitations.py``: ``p_true``, ``verbalized``), each prompt
and output stored (``elicited``); ``workbench score G --estimator p_true`` then scores them as a
measure beside the sampled ones.

Greedy (temperature 0), seeded per question; the model is the one the run sampled (a local
variant re-tuned since is refused). A question whose samples gave no answer is not asked.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from .. import __version__
from ..backends.base import SamplingParams
from ..errors import StageError, UsageError
from ..grading.elicitations import ELICITATIONS, VERSION, messages
from ..lifecycle.context import check_writable, open_context
from ..lifecycle.request import run_model
from ..lifecycle.resolve import grading_for
from ..store import elicited, queries


def elicit(grading_id: str, measure: str = "p_true", *, judge: str | None = None,
           db_path: Path | None = None, mlflow_uri: str | None = None, progress=None,
           log=lambda s: None) -> dict:
    """Ask for ``measure`` on every answered question of a grading (a run's, with ``judge``);
    returns {asked, stated, failed}. ``progress(done, total)`` per question."""
    if measure not in ELICITATIONS:
        raise UsageError("measure", f"{measure!r} is not one of {', '.join(ELICITATIONS)}")
    how = ELICITATIONS[measure]
    check_writable(db_path, mlflow_uri, existing=True)
    with open_context(db_path, mlflow_uri) as ctx:
        with ctx.writer.session() as con:
            grading = grading_for(con, grading_id, judge)
            run = queries.one(con, "run", grading["run_id"])
            asked = [r for r in elicited.answers(con, grading["grading_id"]) if r["answer"]]
        if not asked:
            raise StageError(f"grading {grading['grading_id']} has no answered question to ask")
        backend, info = run_model(run, f"its answers would be judged by another model; "
                                       f"elicit on a new run of {run['model']}")
        sampler = backend.open(info, log)
        if not hasattr(sampler, "ask"):
            raise UsageError("measure", f"the {backend.name} backend cannot make elicitation "
                                        "calls; sample with transformers or openai")
        params = SamplingParams(n=1, temperature=0.0, max_new_tokens=how.max_new_tokens,
                                seed=run["seed"])
        settings = json.dumps({"model": run["model"], "backend": backend.name,
                               "prompt_format": run["prompt_format"], "version": VERSION,
                               "max_new_tokens": how.max_new_tokens, "temperature": 0.0,
                               "top_logprobs": how.top_logprobs, "seed": run["seed"],
                               "workbench": __version__}, sort_keys=True)
        if progress:
            sampler.on_sampled = _counter(progress, len(asked))
        answers = sampler.ask([(r["question_id"], messages(how, r["question"], r["answer"]))
                               for r in asked], params, how.top_logprobs)
        rows = [_row(grading["grading_id"], measure, r, prompt, c, settings)
                for r, (prompt, c) in zip(asked, answers)]
        with ctx.writer.transaction() as con:
            elicited.replace(con, grading["grading_id"], measure, rows)
    stated = sum(r["confidence"] is not None for r in rows)
    return {"grading_id": grading["grading_id"], "asked": len(rows), "stated": stated,
            "failed": sum(r["error"] is not None for r in rows)}


def _row(grading_id: str, measure: str, asked: dict, prompt: str, completion,
         settings: str) -> dict:
    row = dict(grading_id=grading_id, question_id=asked["question_id"], measure=measure,
               answer=asked["answer"], prompt=prompt, settings=settings)
    if isinstance(completion, Exception):
        return {**row, "output": "", "confidence": None, "error": str(completion)[:500]}
    tops = [dict(t) for t in completion.top_logprobs]
    confidence, output = ELICITATIONS[measure].read(completion.text, tops)
    return {**row, "output": output, "confidence": confidence, "error": None}


def _counter(progress, total: int):
    done, lock = [0], threading.Lock()  # a remote sampler's threads report

    def sampled(k: int) -> None:
        with lock:
            done[0] += k
            progress(done[0], total)
    return sampled
