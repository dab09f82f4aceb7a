"""workbench: measure whether a language model knows what it knows (semantic calibration).

The rooms: ``data`` (questions), ``backends`` (where samples come from), ``store`` (DuckDB, the
source of truth), ``grading`` (the map B and judges), ``analysis`` (metrics, intervals, diffs),
``stages`` (generate → grade → score), ``tracking`` (the MLflow mirror), ``cli``; ``api`` is the
public Python surface.
"""

__version__ = "0.1.0"
