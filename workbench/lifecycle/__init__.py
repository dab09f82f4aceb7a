"""What every stage and read shares, and no stage owns: the context a writing command opens
(store writer, MLflow mirror, FAILED on any exit but success: ``context.py``), what an id or
prefix means (``resolve.py``), a run's request (``request.py``), artifact files
(``artifacts.py``), a variant's lineage recorded in the store (``lineage.py``) and the fault
hook tests stop a stage with (``faults.py``)."""
