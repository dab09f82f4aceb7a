"""An experiment's grid in a store: each cell's run, and per judge its grading and score.

``status`` reads the store only (no model, dataset or server is touched); ``run`` does what is
missing, cell by cell: a cell with a finished run is not sampled again, an unfinished one is
resumed, a judge that graded a run does not grade it again, and a grading with a score is not
scored again. So running a file again after a crash, or after adding a model or a style, does
only the new work.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .. import config, data, prompts
from ..backends.base import looks_chat
from ..backends.transformers import variants
from ..errors import ExperimentError, WorkbenchError
from ..grading.judges import RULES
from ..store import Writer, queries, reader
from ..store import experiments as stored
from .spec import Cell, Experiment

Log = Callable[[str], None]


@dataclass
class CellState:
    cell: Cell
    run_id: str | None = None
    status: str = "missing"  # missing | RUNNING | FAILED | FINISHED
    stored: int = 0  # samples stored
    planned: int | None = None
    gradings: dict[str, str | None] = field(default_factory=dict)  # judge -> newest grading
    scores: dict[str, str | None] = field(default_factory=dict)  # judge -> its newest score
    ablations: dict[str, str | None] = field(default_factory=dict)  # judge -> its ablation
    unscored: dict[str, list] = field(default_factory=dict)  # judge -> measures still to score

    @property
    def done(self) -> bool:
        return self.status == "FINISHED" and all(self.scores.values()) \
            and all(self.ablations.values()) and not any(self.unscored.values())


def experiment_id(exp: Experiment) -> str:
    return "exp_" + exp.sha256[:12]


def status(exp: Experiment, db_path: Path | None = None) -> list[CellState]:
    """Each cell's state in the store (every cell missing where there is no store yet)."""
    path = config.db_path(db_path)
    states = [CellState(c, gradings={j: None for j in exp.judges},
                        scores={j: None for j in exp.judges},
                        ablations={j: None for j in exp.judges} if exp.ablation else {})
              for c in exp.cells]
    if not path.exists():
        return states
    with reader(path) as con:
        for s in states:
            _fill(con, s, exp.ablation, exp.measures)
    return states


def tunings(exp: Experiment) -> dict[str, str | None]:
    """Each variant the experiment tunes: the tuning id in the model cache, or None where it is
    not tuned yet (read from its lineage file; no model is loaded). Whether the cached one was
    tuned with the file's settings is checked when the experiment runs."""
    out = {}
    for t in exp.tunings:
        found = variants.find(t.variant_name)
        out[t.variant_name] = (variants.lineage(found) or {}).get("tuning_id") if found else None
    return out


def _fill(con, s: CellState, ablation: tuple[int, ...] = (), measures=()) -> None:
    found = stored.cell_run(con, s.cell.key)
    if not found:
        return
    s.run_id, s.status = found["run_id"], found["status"]
    s.stored = queries.samples_stored(con, s.run_id)
    s.planned = found["n_questions"] * found["samples_per_question"]
    for judge in s.gradings:
        grading = stored.judged(con, s.run_id, judge)
        s.gradings[judge] = grading["grading_id"] if grading else None
        s.scores[judge] = grading["score_id"] if grading else None
        if ablation and grading:
            s.ablations[judge] = stored.ablated(con, grading["grading_id"], ablation)
        done = stored.measured(con, grading["grading_id"]) if grading else set()
        s.unscored[judge] = [m for m in measures if m not in done]


def run(exp: Experiment, *, db_path: Path | None = None, mlflow_uri: str | None = None,
        log: Log = lambda s: None, progress=None) -> list[CellState]:
    """Tune, then sample, grade and score every cell that lacks it; returns the grid
    afterwards. ``progress(done, total, label)``: questions sampled of the cell ``label``."""
    # The stages load NumPy, DuckDB's writer, MLflow's mirror and the model runtime: only here.
    from ..stages.ablate import ablate  # (the same)
    from ..stages.generate import generate
    from ..stages.grade import grade  # (the same)
    from ..stages.score import score  # (the same)
    from ..stages.tune import tune  # (the same)

    check(exp, db_path, migrate=True)
    path = config.db_path(db_path)
    with Writer(path) as writer, writer.transaction() as con:
        stored.ensure_experiment(con, dict(experiment_id=experiment_id(exp), name=exp.name,
                                            path=exp.path, sha256=exp.sha256,
                                            content=exp.content))
        stored.ensure_cells(con, experiment_id(exp), [
            dict(cell_key=c.key, model=c.model, dataset=c.dataset, style=c.style)
            for c in exp.cells])
    where = dict(db_path=db_path, mlflow_uri=mlflow_uri)
    for i, t in enumerate(exp.tunings, 1):  # cached ones only record their lineage here
        head = f"[tuning {i}/{len(exp.tunings)}] {t.variant_name}"
        tune(t, log=lambda m, h=head: log(f"{h}: {m}"), **where)
    states = status(exp, db_path)
    for i, s in enumerate(states, 1):
        head = f"[{i}/{len(states)}] {s.cell.label}"
        if s.done:
            log(f"{head}: done ({s.run_id})")
            continue
        if s.status != "FINISHED":
            verb = "sampling" if s.status == "missing" else f"resuming {s.run_id}"
            log(f"{head}: {verb} ({_left(states, i)} cells left after this one)")
            req = replace(s.cell.request, cell_key=s.cell.key)
            s.run_id = generate(req, log=lambda m, h=head: log(f"{h}: {m}"),
                                progress=(lambda d, t, h=head: progress(d, t, h))
                                if progress else None, **where)
        with Writer(path) as writer, writer.transaction() as con:
            stored.link_experiment_run(con, experiment_id(exp), s.run_id, s.cell.key)
        with reader(path) as con:
            _fill(con, s, exp.ablation, exp.measures)
        for judge in exp.judges:
            if s.gradings[judge] is None:
                log(f"{head}: grading with {judge}")
                s.gradings[judge] = grade(s.run_id, judge, **where)
            if s.scores[judge] is None:
                s.scores[judge] = score(s.gradings[judge], n_bootstrap=exp.bootstrap,
                                        seed=exp.seed, **where)
            if s.unscored.get(judge):
                log(f"{head}: scoring {judge}'s grading under "
                    f"{', '.join(s.unscored[judge])}")
            for measure in s.unscored.get(judge, []):
                score(s.gradings[judge], n_bootstrap=exp.bootstrap, seed=exp.seed,
                      estimator=measure, **where)
            s.unscored[judge] = []
            if exp.ablation and s.ablations[judge] is None:
                log(f"{head}: ablating {judge}'s grading over m = "
                    f"{', '.join(map(str, exp.ablation))}")
                s.ablations[judge] = ablate(s.gradings[judge], list(exp.ablation),
                                            seed=exp.seed, **where)
        log(f"{head}: done ({s.run_id}; scores {', '.join(s.scores.values())})")
    return states


def _left(states: list[CellState], i: int) -> int:
    return sum(not s.done for s in states[i:])


def check(exp: Experiment, db_path: Path | None = None, migrate: bool = False) -> None:
    """What the file alone cannot say: judges that are neither rules nor recorded here, and
    backends that cannot run here (vLLM not installed, a key not set). With ``migrate``, once
    all is well, the store's pending migrations are applied (the run writes next)."""
    path = config.db_path(db_path)
    recorded: set[str] = set()
    if path.exists():
        with reader(path, allow_pending=True) as con:  # judges: a table since 0006
            recorded = {j for j in exp.judges if j not in RULES and queries.judge_record(con, j)}
    for judge in exp.judges:
        if judge not in RULES and judge not in recorded:
            raise ExperimentError(f"{exp.path}: [experiment] judges: {judge!r} is neither a "
                                  f"rule judge ({', '.join(RULES)}) nor recorded in {path} "
                                  f"(workbench judges add {judge} ...)")
    seen = set()
    for c in exp.cells:
        backend = c.request.backend
        if backend not in seen:
            seen.add(backend)
            try:
                backend.validate()
            except WorkbenchError as exc:
                raise ExperimentError(f"{exp.path}: [[models]] {c.model}: {exc}") from None
    if migrate and path.exists():
        with Writer(path) as writer, writer.session():  # its first session migrates
            pass


@dataclass(frozen=True)
class Cost:
    cells: int
    cells_left: int
    samples: int | None  # None: a dataset's size is not known here (give it a size)
    samples_left: int | None
    max_tokens_left: int | None  # every missing sample at its full token budget
    unknown: tuple[str, ...]  # datasets whose size is not known here
    tunings_left: int = 0  # variants to tune first


def cost(exp: Experiment, states: list[CellState]) -> Cost:
    """What the grid costs, and what is left of it: samples, and generated tokens at most (each
    missing sample at its token budget; real samples stop earlier)."""
    sizes, unknown = {}, []
    for spec, size in exp.sizes.items():
        sizes[spec] = size if size is not None else _size(spec)
        if sizes[spec] is None:
            unknown.append(spec)
    total = left = tokens = 0
    for s in states:
        n = sizes[s.cell.dataset]
        if n is None:
            continue
        planned = n * exp.samples
        missing = 0 if s.status == "FINISHED" else planned - s.stored
        req = s.cell.request
        total, left = total + planned, left + missing
        fmt = req.prompt_format or ("chat" if looks_chat(req.model) else "completion")
        tokens += missing * prompts.max_new_tokens(req.style, req.kind, req.max_new_tokens, fmt)
    known = not unknown
    return Cost(len(states), sum(not s.done for s in states), total if known else None,
                left if known else None, tokens if known else None, tuple(unknown),
                sum(t is None for t in tunings(exp).values()))


def _size(spec: str) -> int | None:
    """A dataset's size where it can be read here without the network (bundled sets, files)."""
    base, n = data.split_count(spec)
    if not (base.startswith("bundled:") or Path(base).exists()):
        return n
    try:
        size = len(data.load(base).questions)
    except WorkbenchError:
        return n
    return min(size, n) if n else size
