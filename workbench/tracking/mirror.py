"""Mirror each stage to MLflow: params, metrics, artifacts, and a status that says how it ended.

One MLflow run per stage, through an explicit ``MlflowClient`` (no global active run). A stage
that raises is marked FAILED before the exception goes on; only a clean exit is FINISHED.
Runs of one dataset share an experiment; the workbench id is a tag, and the DuckDB row holds the
MLflow run id, so each points at the other.
"""

from __future__ import annotations

import logging
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import __version__


def git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def experiment_name(dataset_name: str) -> str:
    """Runs of one dataset share an experiment, whatever subset (@N) they asked."""
    return "workbench/" + dataset_name.split("@")[0]


def variant_tags(run: dict, dataset: str) -> dict[str, str]:
    """Tags that let the MLflow UI filter and compare runs by variant."""
    return {"workbench.dataset": dataset, "workbench.model": run["model"],
            "workbench.model_kind": run["model_kind"], "workbench.style": run["style"],
            "workbench.backend": run["backend"], "workbench.prompt_format": run["prompt_format"],
            "workbench.samples": str(run["samples_per_question"])}


@dataclass
class StageRun:
    client: object
    run_id: str

    def log_metrics(self, metrics: dict[str, float], step: int = 0):
        from mlflow.entities import Metric  # mlflow: heavy (~1.5 s), see Tracker

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in metrics.items()
                 if v is not None and v == v]
        for i in range(0, len(items), 500):
            self.client.log_batch(self.run_id, metrics=items[i:i + 500])

    def log_artifact(self, path: Path, folder: str | None = None):
        self.client.log_artifact(self.run_id, str(path), folder)


class Tracker:
    def __init__(self, uri: str, artifact_root: Path):
        # mlflow takes 1-2 s to import: only commands that mirror a stage pay for it.
        from mlflow.tracking import MlflowClient

        # MLflow announces its own schema set-up at INFO; the workbench reports what matters.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)

        self.uri = uri
        self.artifact_root = Path(artifact_root)
        self.client = MlflowClient(tracking_uri=uri)

    def experiment_id(self, name: str) -> str:
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            return exp.experiment_id
        location = (self.artifact_root / "mlflow" / name.replace("/", "_").replace(":", "_"))
        location.mkdir(parents=True, exist_ok=True)
        return self.client.create_experiment(name, artifact_location=location.resolve().as_uri())

    @contextmanager
    def stage(self, experiment: str, run_name: str, params: dict, tags: dict):
        """A new MLflow run for a stage: FINISHED on a clean exit, FAILED on any exception."""
        from mlflow.entities import Param, RunTag  # see __init__

        exp_id = self.experiment_id(experiment)
        all_tags = {"workbench.version": __version__, **tags}
        run = self.client.create_run(exp_id, run_name=run_name)
        with self._guard(run.info.run_id) as handle:
            params = {**params, "package_version": __version__, "git_sha": git_sha() or "unknown"}
            self.client.log_batch(
                run.info.run_id,
                params=[Param(k, str(v)[:6000]) for k, v in params.items()],
                tags=[RunTag(k, str(v)) for k, v in all_tags.items()],
            )
            yield handle

    @contextmanager
    def resume(self, mlflow_run_id: str):
        """Reopen a stage's MLflow run (RUNNING again) to finish it."""
        self.client.update_run(mlflow_run_id, status="RUNNING")
        with self._guard(mlflow_run_id) as handle:
            yield handle

    @contextmanager
    def _guard(self, run_id: str):
        try:
            yield StageRun(self.client, run_id)
        except BaseException as exc:
            try:
                self.client.set_tag(run_id, "workbench.error", repr(exc)[:5000])
            finally:
                self.client.set_terminated(run_id, "FAILED")
            raise
        self.client.set_terminated(run_id, "FINISHED")

    def fail_runs(self, run_ids: list[str], reason: str) -> None:
        for run_id in run_ids:
            self.client.set_tag(run_id, "workbench.error", reason)
            self.client.set_terminated(run_id, "FAILED")
