"""Read-only analyses over the store: ``diff`` of two gradings, ``compare`` of a dataset's
variants, two judges side by side (``compare.py``), and the HTML report (``report.py``). They
write files under the artifacts folder and, when asked, an MLflow run, never a store row."""
