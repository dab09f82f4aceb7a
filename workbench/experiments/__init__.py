"""Experiments as files: a grid of variants (models × datasets × styles at one M, graded by the
listed judges) written in TOML, run resumably and shown as a grid.

- ``spec.py``: the file read and checked whole (pure: no model, dataset or store is touched),
  and its cells as ``GenerateRequest``s, each with a key that hashes what decides its samples;
- ``grid.py``: the grid's state in a store, and ``run``, which samples, grades and scores only
  what is missing.
"""
