"""The MLflow mirror of the stages: DuckDB is the source of truth, MLflow the place to look.
``project.py`` computes what a stage's MLflow run shows from its rows; ``mirror.py`` writes it."""

import sys
from pathlib import Path

from .mirror import Mirror, Tracker, check_uri, git_sha, probe
from .project import experiment_name, project, variant_tags

__all__ = ["Mirror", "Tracker", "check_uri", "git_sha", "probe", "experiment_name", "project",
           "variant_tags", "log_analysis"]


def log_analysis(uri: str, artifacts_dir: Path, experiment: str, name: str, params: dict,
                 metrics: dict, artifacts: list[Path]) -> None:
    """A read-only analysis (diff, compare, report) as an MLflow run of its own; skipped, with
    one line, if MLflow is down."""
    down = probe(uri)
    if down:
        print(f"workbench: MLflow at {uri} is unreachable ({down}); not logged there",
              file=sys.stderr)
        return
    Tracker(uri, artifacts_dir).log_analysis(experiment, name, params, metrics, artifacts)
