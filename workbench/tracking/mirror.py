"""The MLflow mirror: DuckDB is the source of truth, MLflow the place to look.

``Mirror.sync(writer, table, id)`` reads a stage's rows and makes its MLflow run say the same
(``project.py``): params and tags when the run is created, then metrics, artifacts and status.
Syncing again is harmless (MLflow drops a metric row it already holds; an artifact overwrites
itself). Stages sync when they start and when they end. If MLflow is unreachable, or fails part
way, the stage carries on and stays *pending*: its ``mirrored_status`` differs from its status
until ``workbench mirror`` syncs it. An outage therefore never stops a stage or loses a figure.

MLflow's own HTTP client waits two minutes per request and retries for longer; the mirror probes
a server once (2 s) and gives each request 10 s and two retries, unless the environment says
otherwise (``MLFLOW_HTTP_REQUEST_TIMEOUT``, ``MLFLOW_HTTP_REQUEST_MAX_RETRIES``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from ..errors import UsageError
from ..store import queries, records
from ..store.tables import STAGES
from .project import (
    RECORDS,
    Projection,
    experiment_name,
    legacy_experiment_name,
    project,
    variant_tags,
)

PROBE_TIMEOUT = 2.0
# MLflow 3's UI opens an experiment by its kind: model development shows the runs table, not
# the GenAI tracing overview it would otherwise infer.
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"


def git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def local_folder(uri: str) -> Path | None:
    """The folder a local tracking URI writes in (None for servers)."""
    parsed = urlparse(uri)
    if parsed.scheme.startswith("sqlite"):
        return Path(uri.split(":///", 1)[1]).parent if ":///" in uri else None
    if parsed.scheme in ("", "file"):
        return Path(parsed.path or uri).parent
    return None


def check_uri(uri: str) -> None:
    """A local tracking URI whose folder is missing is a mistake, not a folder to create."""
    folder = local_folder(uri)
    if folder is not None and not folder.is_dir():
        raise UsageError("mlflow_uri", f"{uri}: the folder {folder} does not exist (create it, "
                                       "or point at an existing one)")


def probe(uri: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why the tracking server cannot be used now (None: it answers, or it is local)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return None
    url = uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return None
    except urllib.error.HTTPError as exc:  # it answered: up, whatever it thinks of us
        return None if exc.code < 500 else f"it answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"no answer within {timeout:.0f} s"
        return f"{type(reason).__name__}: {reason}"


_SEEN: dict[str, tuple[float, str | None]] = {}  # uri -> (when probed, outage); per process


def outage(uri: str, log) -> str | None:
    """``probe``, at most once a minute per URI in this process, saying an outage once."""
    when, down = _SEEN.get(uri, (0.0, None))
    if time.monotonic() - when > 60:
        down = probe(uri)
        if down and uri not in _SEEN:
            log(f"MLflow at {uri} is unreachable ({down}); stages are recorded in DuckDB and "
                "`workbench mirror` copies them to MLflow once it is back")
        _SEEN[uri] = (time.monotonic(), down)
    return down


@contextmanager
def _process_tracking_uri(uri: str):
    """MLflow writes a trace where the process-wide tracking URI points (and setting that URI
    also sets ``MLFLOW_TRACKING_URI``, which the workbench reads): point both at ``uri`` for
    these calls only, and put both back as they were."""
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri  # see Tracker

    saved = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        with _use_tracking_uri(uri):
            yield
    finally:
        if saved is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved


class Tracker:
    """An explicit MlflowClient (no global active run) with the workbench's conventions."""

    def __init__(self, uri: str, artifact_root: Path):
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        # Evaluation records get their assessments right after their trace: write traces
        # synchronously (MLflow exports them in the background by default).
        os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
        # mlflow takes 1-2 s to import: only commands that mirror a stage pay for it.
        from mlflow.tracking import MlflowClient

        # MLflow announces its own schema set-up at INFO; the workbench reports what matters.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # Its SQL store logs each failed write with a traceback before raising; the mirror
        # reports the failure in one line (an unwritable store printed 100 lines).
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
        self.uri = uri
        self.artifact_root = Path(artifact_root)
        self.client = MlflowClient(tracking_uri=uri)

    def experiment_id(self, name: str) -> str:
        exp = self.client.get_experiment_by_name(name)
        if exp is None:  # made under the old name: renamed, its runs kept
            exp = self.client.get_experiment_by_name(legacy_experiment_name(name))
            if exp is not None:
                self.client.rename_experiment(exp.experiment_id, name)
        if exp is not None:
            if exp.tags.get(KIND_TAG) != KIND:
                self.client.set_experiment_tag(exp.experiment_id, KIND_TAG, KIND)
            return exp.experiment_id
        location = self.artifact_root / "mlflow" / re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII)
        location.mkdir(parents=True, exist_ok=True)
        return self.client.create_experiment(name, artifact_location=location.resolve().as_uri(),
                                             tags={KIND_TAG: KIND})

    def existing(self, run_id: str | None) -> str | None:
        if not run_id:
            return None
        from mlflow.exceptions import MlflowException  # see __init__

        try:
            self.client.get_run(run_id)
            return run_id
        except MlflowException:
            return None

    def find(self, p: Projection, what: str, item_id: str) -> str | None:
        """The MLflow run a previous mirror made for this stage, when DuckDB never learned its
        id (the process was killed in between): found by the stage's tags, so a second mirror
        finishes that run instead of making another."""
        found = self.client.search_runs(
            [self.experiment_id(p.experiment)],
            filter_string=f"tags.`workbench.{what}_id` = '{item_id}' AND "
                          f"tags.`workbench.stage` = '{p.tags['workbench.stage']}'",
            max_results=1)
        return found[0].info.run_id if found else None

    def write(self, p: Projection, run_id: str | None) -> str:
        """Make the MLflow run (``run_id``, or a new one) say what ``p`` says; its id."""
        from mlflow.entities import (  # see __init__
            Dataset,
            DatasetInput,
            InputTag,
            Metric,
            Param,
            RunTag,
        )

        if run_id is None:
            tags = dict(p.tags)
            if p.parent_run:
                tags["mlflow.parentRunId"] = p.parent_run  # nested under the variant's run
            run_id = self.client.create_run(self.experiment_id(p.experiment),
                                            run_name=p.run_name).info.run_id
            self.client.log_batch(run_id, params=[Param(k, v) for k, v in p.params.items()],
                                  tags=[RunTag(k, v) for k, v in tags.items()])
            if p.dataset:
                d = p.dataset
                self.client.log_inputs(run_id, [DatasetInput(
                    Dataset(d["name"], d["digest"], "workbench", json.dumps(
                        {"source": d["source"], "questions": d["n_questions"]})),
                    [InputTag("mlflow.data.context", "eval")])])
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, 0) for k, v in p.metrics.items() if v == v]
        metrics += [Metric(k, v, now, step) for k, steps in p.history.items()
                    for step, v in steps if v == v]
        for i in range(0, len(metrics), 500):
            self.client.log_batch(run_id, metrics=metrics[i:i + 500])
        if p.parent_run and p.parent_metrics and self.existing(p.parent_run):
            self.client.log_batch(p.parent_run, metrics=[
                Metric(k, v, now, 0) for k, v in p.parent_metrics.items() if v == v])
        for path in p.artifacts:
            self.client.log_artifact(run_id, str(path))
        if p.records and p.status == "FINISHED":
            self.log_records(run_id, p)
        if p.tables:  # as MlflowClient.log_table marks them, without its appending on a retry
            self.client.set_tag(run_id, "mlflow.loggedArtifacts", json.dumps(
                [{"path": t, "type": "table"} for t in p.tables]))
        if p.status == "RUNNING":
            self.client.update_run(run_id, status="RUNNING")
        else:
            if p.error:
                self.client.set_tag(run_id, "workbench.error", p.error[:5000])
            self.client.set_terminated(run_id, p.status)
        return run_id

    def log_records(self, run_id: str, p: Projection) -> None:
        """Each question as an MLflow evaluation record on the run: a trace (the question and
        gold in, the answer and its classes out) with the judge's verdict and the confidence as
        assessments. Once per run: a retried sync finds them and logs nothing."""
        from mlflow.entities import AssessmentSource, Feedback  # see __init__
        from mlflow.tracing.client import TracingClient

        experiment_id = self.client.get_run(run_id).info.experiment_id
        if self.client.search_traces(locations=[experiment_id], run_id=run_id,
                                     max_results=1, include_spans=False):
            return
        judge = AssessmentSource("CODE", p.judge or "judge")
        estimator = AssessmentSource("CODE", "plurality share of M")
        tracing = TracingClient(self.uri)
        with _process_tracking_uri(self.uri):
            for r in p.records:
                span = self.client.start_trace(r["question_id"], span_type="LLM",
                                               inputs=r["inputs"], experiment_id=experiment_id,
                                               run_id=run_id)
                self.client.end_trace(span.trace_id, outputs=r["outputs"])
                if r["correct"] is not None:
                    tracing.log_assessment(span.trace_id, Feedback(
                        name="correct", value=bool(r["correct"]), source=judge))
                tracing.log_assessment(span.trace_id, Feedback(
                    name="confidence", value=float(r["confidence"]), source=estimator))

    def log_analysis(self, experiment: str, run_name: str, params: dict, metrics: dict,
                     artifacts: list[Path]) -> str:
        """A read-only analysis (diff, compare) as a finished MLflow run of its own."""
        p = Projection(experiment, run_name, {k: str(v) for k, v in params.items()},
                       {"workbench.stage": params.get("stage", "analysis")}, metrics,
                       artifacts=artifacts, status="FINISHED")
        return self.write(p, None)


def root_cause(exc: BaseException) -> str:
    """The innermost cause's type and first line: what went wrong, not which layer rewrapped it
    ("OperationalError: attempt to write a readonly database", not SQLAlchemy's autoflush
    advice)."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    root = seen[-1]
    text = (str(root).strip().splitlines() or [""])[0]
    return f"{type(root).__name__}: {text[:200]}"


class Mirror:
    """Syncs stages of one store to one tracking URI; never raises into a stage."""

    def __init__(self, uri: str, artifact_root: Path, log=None):
        self.uri, self.artifact_root = uri, Path(artifact_root)
        self.log = log or (lambda s: print(f"workbench: {s}", file=sys.stderr, flush=True))
        self._tracker: Tracker | None = None
        self._down: str | None = None
        self._probed = False

    @property
    def down(self) -> str | None:
        """Why MLflow cannot be used now (probed once), or None."""
        if not self._probed:
            self._probed, self._down = True, outage(self.uri, self.log)
        return self._down

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            self._tracker = Tracker(self.uri, self.artifact_root)
        return self._tracker

    def sync(self, writer, table: str, item_id: str) -> bool:
        """Mirror one stage; True when MLflow now says what DuckDB says."""
        with writer.session() as con:
            record = queries.stage_record(con, table, item_id, questions=RECORDS)
        record["artifacts"] = str(self.artifact_root)
        row = record[STAGES[table].what]
        if self.down:
            with writer.session() as con:
                records.set_mirrored(con, table, item_id, None, None, f"MLflow down: "
                                                                       f"{self.down}")
            return False
        try:
            projection, what = project(record), STAGES[table].what
            run_id = self.tracker.write(projection, self.tracker.existing(
                row.get("mlflow_run_id")) or self.tracker.find(projection, what, item_id))
        except Exception as exc:  # noqa: BLE001 - an outage must not stop or lose the stage
            self._down = root_cause(exc)
            self.log(f"could not mirror {table[:-1]} {item_id} to MLflow ({self._down}); "
                     "`workbench mirror` retries it")
            with writer.session() as con:
                records.set_mirrored(con, table, item_id, None, None, self._down)
            return False
        with writer.session() as con:
            records.set_mirrored(con, table, item_id, run_id, row["status"])
        return True

    def sync_pending(self, writer) -> list[tuple[str, str, bool]]:
        """Every finished or failed stage MLflow does not show as such yet."""
        with writer.session() as con:
            pending = queries.unmirrored(con)
        return [(table, item_id, self.sync(writer, table, item_id))
                for table, item_id in pending]


__all__ = ["Mirror", "Tracker", "check_uri", "probe", "git_sha", "experiment_name",
           "variant_tags"]
