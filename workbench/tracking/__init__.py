"""The MLflow mirror of the stages: DuckDB is the source of truth, MLflow the place to look."""

from .mirror import StageRun, Tracker, experiment_name, git_sha, variant_tags

__all__ = ["Tracker", "StageRun", "experiment_name", "git_sha", "variant_tags"]
