"""The MLflow mirror of the stages: DuckDB is the source of truth, MLflow the place to look.
``project.py`` computes what a stage's MLflow run shows from its rows; ``mirror.py`` writes it."""

from .mirror import Mirror, Tracker, check_uri, git_sha, probe
from .project import experiment_name, project, variant_tags

__all__ = ["Mirror", "Tracker", "check_uri", "git_sha", "probe", "experiment_name", "project",
           "variant_tags"]
