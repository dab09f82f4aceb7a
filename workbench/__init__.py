"""workbench: measure whether a language model knows what it knows (semantic calibration).

The rooms: ``data`` (questions), ``backends`` (where samples come from), ``store`` (DuckDB, the
source of truth), ``grading`` (the map B and judges), ``analysis`` (metrics, intervals, diffs),
``stages`` (generate → grade → score), ``tracking`` (the MLflow mirror), ``cli``; ``api`` is the
public Python surface, and ``Store`` (``notebook.py``) reads the store into DataFrames.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "Store":  # loaded on use (pandas): `import workbench` stays light
        from .notebook import Store

        return Store
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
