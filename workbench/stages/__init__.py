"""The stages that join the rooms: generate (backends → store), grade (store → grading →
store), score (store → analysis → store), and the read-only comparisons. ``lifecycle.py`` is
what they share: RUNNING, mirrored to MLflow, then FINISHED or FAILED in both places."""
