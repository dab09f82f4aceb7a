"""The public Python API; the CLI is a thin layer over these functions, and tests call them too.

Example::

    from workbench import api
    run_id = api.generate(api.GenerateRequest("gemma-3-270m", "bundled:capitals@20", samples=10))
    grading_id = api.grade(run_id, "exact")
    score_id = api.score(grading_id)
    api.metrics(score_id)["smece"]   # Estimate(value, ci_low, ci_high)

Errors a user can fix are ``WorkbenchError``s whose messages name the parameter concerned.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, config
from .errors import NotFound, StageError, UsageError
from .experiments import grid as _grid
from .experiments import spec as _spec
from .grading.judges import RULES, JudgeRecord
from .lifecycle import putaway
from .lifecycle.request import GenerateRequest
from .lifecycle.resolve import expand, full_ids, grading_for, looks_like_id
from .readouts.methods import score_methods, stale_note
from .store import Writer, exchange, queries, reader, records, sandbox
from .store import runs as stored_runs
from .store.connection import applied_versions, migrations
from .store.doctor import Finding, check
from .store.locks import writer_active
from .store.tables import STAGES
from .tuning.request import TuneRequest

if TYPE_CHECKING:  # what _LAZY loads, spelled out so an editor's "go to definition" follows
    from .analysis.resample import Estimate
    from .readouts.compare import compare as compare
    from .readouts.compare import compare_judges as compare_judges
    from .readouts.compare import diff as diff
    from .readouts.compare import measure_summary as measure_summary
    from .readouts.compare import pooled_diff as pooled_diff
    from .readouts.report import report as report
    from .stages.ablate import ablate as ablate
    from .stages.elicit import elicit as elicit
    from .stages.generate import generate as generate
    from .stages.generate import preview as preview
    from .stages.generate import resume as resume
    from .stages.grade import grade as grade
    from .stages.score import score as score
    from .stages.score import score_measures as score_measures
    from .stages.tune import TuneResult as TuneResult
    from .stages.tune import tune as tune

# The stages load NumPy (the figures), DuckDB's writer, MLflow's mirror and model helpers; the
# reads below (`workbench runs`, `show`, `questions`) need none of that, so each stage is
# imported when it is first used (PEP 562): `api.score` is `stages.score.score`.
_LAZY = {"generate": "stages.generate", "resume": "stages.generate",
         "preview": "stages.generate", "grade": "stages.grade", "elicit": "stages.elicit",
         "score": "stages.score", "score_measures": "stages.score", "ablate": "stages.ablate",
         "diff": "readouts.compare", "compare": "readouts.compare",
         "compare_judges": "readouts.compare", "pooled_diff": "readouts.compare",
         "measure_summary": "readouts.compare",
         "report": "readouts.report", "tune": "stages.tune", "TuneResult": "stages.tune",
         "Estimate": "analysis.resample"}


__all__ = ["GenerateRequest", "run_all", "RunResult", "list_runs", "show", "metrics", "query",
           "questions", "samples", "doctor", "ablation", "list_datasets", "add_judge",
           "list_judges", "mirror", "check_server", "Finding", "TuneRequest", "list_tunings",
           "load_experiment", "experiment_status", "experiment_run", "experiment_cost",
           "experiment_check", "experiment_tunings", "archive", "delete", "export_runs",
           "import_runs", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"{__package__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class RunResult:
    run_id: str
    grading_id: str
    score_id: str


def run_all(req: GenerateRequest, judge: str = "exact", *, n_bootstrap: int = 1000,
            db_path: Path | None = None, mlflow_uri: str | None = None, progress=None,
            log=lambda s: None) -> RunResult:
    """generate → grade → score in one go."""
    # The three stages (NumPy, DuckDB's writer, the model runtime's helpers): see _LAZY.
    from .stages.generate import generate
    from .stages.grade import grade  # (the same)
    from .stages.score import score  # (the same)

    run_id = generate(req, db_path=db_path, mlflow_uri=mlflow_uri, progress=progress, log=log)
    grading_id = grade(run_id, judge, db_path=db_path, mlflow_uri=mlflow_uri)
    score_id = score(grading_id, n_bootstrap=n_bootstrap, seed=req.seed, db_path=db_path,
                     mlflow_uri=mlflow_uri)
    return RunResult(run_id, grading_id, score_id)


def load_experiment(path: str | Path) -> _spec.Experiment:
    """An experiment file read and checked whole (``experiments/spec.py``); nothing runs."""
    return _spec.load(path)


def experiment_status(exp: _spec.Experiment, db_path: Path | None = None
                      ) -> list[_grid.CellState]:
    """Each cell's run, gradings and scores in the store; no model is loaded."""
    return _grid.status(exp, db_path)


def experiment_tunings(exp: _spec.Experiment) -> dict[str, str | None]:
    """Each variant the file tunes: its tuning id in the model cache, None where not tuned."""
    return _grid.tunings(exp)


def experiment_cost(exp: _spec.Experiment, db_path: Path | None = None) -> _grid.Cost:
    """What the grid costs and what is left of it (samples, generated tokens at most)."""
    return _grid.cost(exp, _grid.status(exp, db_path))


def experiment_check(exp: _spec.Experiment, db_path: Path | None = None,
                     migrate: bool = False) -> None:
    """What the file alone cannot say: its judges are recorded here (or rules), and its
    backends can run here (vLLM installed, keys set). ``run`` checks this first too. With
    ``migrate`` (a command about to write), the store's pending migrations are then applied."""
    _grid.check(exp, db_path, migrate)


def experiment_run(exp: _spec.Experiment, *, db_path: Path | None = None,
                   mlflow_uri: str | None = None, log=lambda s: None,
                   progress=None) -> list[_grid.CellState]:
    """Tune, then sample, grade and score every cell that lacks it; returns the grid
    afterwards. ``progress(done, total, label)``: questions sampled of the cell named."""
    return _grid.run(exp, db_path=db_path, mlflow_uri=mlflow_uri, log=log, progress=progress)


def _read(db_path: Path | None, **kw):
    return reader(config.db_path(db_path), **kw)


def list_runs(db_path: Path | None = None, judge: str | None = None, *,
              status: str | None = None, archived: bool = False) -> list[dict]:
    """Every run, once per finished grading (only ``judge``'s, with one), with that grading's
    newest score's headline figures; only runs in ``status`` with one; archived runs only when
    ``archived``."""
    if status is not None and status.upper() not in stored_runs.STATUSES:
        raise UsageError("status", f"{status!r} is not one of "
                                   f"{', '.join(stored_runs.STATUSES)}")
    with _read(db_path) as con:
        return stored_runs.list_runs(con, judge, status and status.upper(), archived)


def delete(run_ids: list[str], *, with_dependents: bool = False,
           db_path: Path | None = None) -> list[str]:
    """Delete runs with their samples (and, ``with_dependents``, their gradings, scores and
    ablations); returns the full ids (``lifecycle/putaway.py``)."""
    return putaway.delete(config.db_path(db_path), run_ids, with_dependents)


def archive(run_ids: list[str], *, note: str | None = None, undo: bool = False,
            db_path: Path | None = None) -> list[str]:
    """Put runs away (or, with ``undo``, back): `runs` lists them only when asked and `doctor`
    stops proposing to resume them; nothing is deleted (``lifecycle/putaway.py``)."""
    return putaway.archive(config.db_path(db_path), run_ids, note, undo)


def show(item_id: str, db_path: Path | None = None) -> dict:
    """A run, grading, score, ablation or tuning by id (or an unambiguous prefix), with what
    hangs off it."""
    with _read(db_path) as con:
        table, item_id = expand(con, item_id, tuple(STAGES))
        if table == "tunings":
            return {"tuning": queries.one(con, "tuning", item_id),
                    "steps": queries.tuning_steps(con, item_id)}
        if table == "gradings":
            return {"grading": queries.one(con, "grading", item_id),
                    "scores": queries.grading_scores(con, item_id),
                    "ablations": queries.grading_ablations(con, item_id)}
        if table == "scores":
            score = queries.one(con, "score", item_id)
            score["diagram_path"] = _absolute(db_path, score["diagram_path"])

            return {"score": score, "metrics": queries.score_estimates(con, item_id),
                    "methods": score_methods(con, item_id), "stale": stale_note(con, score)}
        if table == "ablations":
            return {"ablation": queries.one(con, "ablation", item_id),
                    "rows": queries.ablation(con, item_id)}
        return {"run": queries.one(con, "run", item_id),
                "dataset": queries.run_dataset_name(con, item_id),
                "samples_stored": queries.samples_stored(con, item_id),
                "gradings": queries.run_gradings(con, item_id)}


def metrics(score_id: str, db_path: Path | None = None) -> dict[str, Estimate]:
    with _read(db_path) as con:
        queries.one(con, "score", score_id)

        return queries.score_estimates(con, score_id)


def questions(item_id: str, judge: str | None = None, *, wrong: bool = False,
              sort: str = "question", limit: int | None = None,
              db_path: Path | None = None) -> list[dict]:
    """Per question of a grading (or a run's grading by ``judge``, or a score's): the answer,
    its confidence and verdict; ``wrong``: only wrong answers; ``sort``: question, confidence or
    classes."""
    if sort not in queries.QUESTION_ORDER:
        raise UsageError("sort", f"{sort!r} is not one of {', '.join(queries.QUESTION_ORDER)}")
    if limit is not None and limit < 1:
        raise UsageError("limit", f"must be ≥ 1, got {limit}")
    with _read(db_path) as con:
        grading = grading_for(con, item_id, judge)
        return queries.question_table(con, grading["grading_id"], wrong=wrong, sort=sort,
                                      limit=limit)


def samples(item_id: str, question_id: str, judge: str | None = None, *,
            db_path: Path | None = None) -> dict:
    """One question's samples in a grading (or a run's grading by ``judge``): each text, the
    answer the map B extracted, its class and the class's verdict (the ``sample_grades`` view)."""
    with _read(db_path) as con:
        grading = grading_for(con, item_id, judge)
        found = queries.sample_grades(con, grading["grading_id"], question_id)
        if not found:
            raise NotFound(f"question {question_id!r} is not in run {grading['run_id']}")
        return {"grading_id": grading["grading_id"], "run_id": grading["run_id"],
                "judge": grading["judge"], "question_id": question_id, "samples": found}


def list_tunings(db_path: Path | None = None) -> list[dict]:
    """Tuned variants recorded in the store (``workbench tune``), oldest first."""
    with _read(db_path) as con:
        return queries.list_tunings(con)


def list_datasets(db_path: Path | None = None) -> list[dict]:
    """Datasets recorded in the store (once per content hash), with how many runs asked them."""
    with _read(db_path) as con:
        return queries.list_datasets(con)


def add_judge(name: str, model: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY",
              extract: bool = False, grader_prompt: str | None = None,
              extractor_prompt: str | None = None, max_tokens: int = 64, concurrency: int = 4,
              timeout: float = 60.0, max_retries: int = 3, verdict: str = "logprob",
              endpoint: str = "chat", threshold: float = 0.5, min_mass: float = 0.2,
              server: str = "unknown", db_path: Path | None = None) -> JudgeRecord:
    """Record an LLM judge (a new version when its model, prompts or parameters change).
    ``extract`` (or an ``extractor_prompt``) makes it extract and class answers too.
    ``verdict``: ``logprob`` (P(yes) from the verdict token's log-probabilities, with
    constrained or free-text answers where a server gives none) or ``text`` (a JSON verdict);
    ``endpoint``: ``chat``, or ``completions`` for base models (a few-shot prompt)."""
    if name in RULES:
        raise UsageError("name", f"{name!r} is a rule judge; pick another name")
    record = JudgeRecord.new(
        name, model, base_url, api_key_env=api_key_env, extract=extract,
        grader_prompt=grader_prompt, extractor_prompt=extractor_prompt, max_tokens=max_tokens,
        concurrency=concurrency, timeout=timeout, max_retries=max_retries, verdict=verdict,
        endpoint=endpoint, threshold=threshold, min_mass=min_mass, server=server)
    with Writer(config.db_path(db_path)) as writer, writer.transaction() as con:
        records.add_judge(con, record.row())
    return record


def mirror(*, db_path: Path | None = None, mlflow_uri: str | None = None
           ) -> list[tuple[str, str, bool]]:
    """Copy to MLflow every stage it does not show yet (recorded while it was unreachable);
    running it again changes nothing. Returns (table, id, mirrored now?) per pending stage."""
    from .lifecycle.context import open_context  # the writer and MLflow's mirror: see _LAZY

    with open_context(db_path, mlflow_uri) as ctx:
        if ctx.mirror.down:
            raise StageError(f"MLflow at {ctx.mirror.uri} is unreachable ({ctx.mirror.down}); "
                             "nothing was mirrored")
        return ctx.mirror.sync_pending(ctx.writer)


def export_runs(run_ids: list[str], to: Path, *, db_path: Path | None = None) -> dict:
    """Write runs (ids or prefixes) with their dataset, samples, gradings and scores to the new
    folder ``to`` as Parquet plus a manifest; returns the manifest. Reads the store read-only."""
    if not run_ids:
        raise UsageError("run_ids", "name at least one run")
    path = config.db_path(db_path)
    with reader(path) as con:
        ids = sorted({expand(con, r, ("runs",))[1] for r in run_ids})
        return exchange.export(con, path, ids, Path(to), max(applied_versions(con)),
                               __version__)


def import_runs(folder: Path, *, db_path: Path | None = None) -> dict[str, int]:
    """Bring an export (``export_runs``) into the store: the rows it lacks, ids kept, in one
    transaction; a second import adds nothing. Returns rows added per table. The folder is
    checked whole first (format, schema version, every file's hash): nothing is stored from a
    folder that fails. Imported records are pending for this store's MLflow (`mirror`)."""
    path = config.db_path(db_path)
    manifest = exchange.read_manifest(Path(folder), max(m.version for m in migrations()))
    with Writer(path) as writer, writer.transaction() as con:
        added = exchange.import_(con, path, Path(folder), manifest)
    exchange.copy_artifacts(path, Path(folder), manifest)
    return added


def check_server(base_url: str, model: str, **options):
    """Does an OpenAI-compatible server sample the distribution a run asks for? See
    ``stages/check.py``; options: server, prompt, n, local, seed, api_key_env, alpha."""
    # The check talks through the openai client (about a second to import): only when used.
    from .backends.check import check_server as run_check

    return run_check(base_url, model, **options)


def list_judges(db_path: Path | None = None) -> list[dict]:
    with _read(db_path) as con:
        return queries.list_judges(con)


def ablation(ablation_id: str, db_path: Path | None = None) -> list[dict]:
    """The rows of an M ablation (``ablate``): mean and sd of each metric per m."""
    with _read(db_path) as con:
        _, ablation_id = expand(con, ablation_id, ("ablations",))
        return queries.ablation(con, ablation_id)


def _absolute(db_path: Path | None, stored: str | None) -> str | None:
    found = config.artifact_path(config.db_path(db_path), stored)
    return None if found is None else str(found)


def doctor(*, fix: bool = False, db_path: Path | None = None,
           mlflow_uri: str | None = None) -> list[Finding]:
    """Check the store; with ``fix``, pending migrations are applied and stages stuck RUNNING
    are marked FAILED (here and in MLflow) first, each said as a finding of level "fixed"."""
    if fix:
        from .lifecycle.context import open_context  # the writer and MLflow's mirror

        with open_context(db_path, mlflow_uri) as ctx:
            fixed = [Finding("fixed", f"applied migrations {ctx.writer.applied}")
                     ] if ctx.writer.applied else []
            fixed += [Finding("fixed", f"{s.table[:-1]} {s.item_id}: RUNNING → FAILED "
                                       f"({s.reason})" + (f"; MLflow run {s.mlflow_run_id} "
                                                          "FAILED too" if s.mlflow_run_id
                                                          else ""))
                      for s in ctx.recovered]
            fixed += [Finding("fixed", f"{table[:-1]} {item_id} mirrored to MLflow")
                      for table, item_id, ok in ctx.mirror.sync_pending(ctx.writer) if ok]
            with ctx.writer.session() as con:
                return fixed + check(con)
    path = config.db_path(db_path)
    live = writer_active(path) if path.exists() else None
    with _read(db_path, allow_pending=True) as con:
        return check(con, live)


def query(sql: str, params: list | None = None, *, write: bool = False, files=(),
          timeout: float | None = None, limit: int | None = None,
          db_path: Path | None = None) -> tuple[list[str], list[tuple]]:
    """Run SQL on the store in DuckDB's sandbox (``store/sandbox.py``): read-only unless
    ``write``; files only under the directories in ``files``; interrupted after ``timeout``
    seconds; at most ``limit`` + 1 rows back. A refused query is a ``QueryError`` with
    DuckDB's message."""
    if params and any(looks_like_id(p) for p in params):
        with _read(db_path) as con:
            params = full_ids(con, params)
    with sandbox.session(config.db_path(db_path), write=write, files=files) as con:
        return sandbox.execute(con, sql, params, timeout=timeout, limit=limit)
