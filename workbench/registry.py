"""How a registry entry is loaded: every extension point (backends, judges, metrics, dataset
formats, tuning methods) names its entries ``"module:Name"`` within its own package, so a new
entry is one file plus one line, and nothing is imported until it is used.

>>> load("workbench.grading.judges", "rules:ExactJudge").name
'exact'
"""

from __future__ import annotations

from importlib import import_module


def load(package: str, ref: str):
    """The object ``ref`` (``"module:Name"``; ``"module"`` alone: the module) names inside
    ``package``."""
    module, _, name = ref.partition(":")
    found = import_module(f"{package}.{module}")
    return getattr(found, name) if name else found
