"""The DuckDB store, the source of truth: connection and migrations, locks, the writer and
readers, and every SQL statement the workbench runs (``records.py`` writes, ``queries.py``
reads, ``verdicts.py`` reads a grading's verdicts, ``runs.py`` lists runs and archives them,
``experiments.py`` holds an experiment's rows, ``doctor.py`` checks, ``recovery.py`` finds dead
stages). The schema itself is ``sql/migrations``; the named views are ``sql/views``.
"""

from __future__ import annotations

from . import queries, records, verdicts
from .access import Writer, reader
from .connection import Connection, connect, migrations, require_store, views
from .locks import ensure_free

__all__ = ["Writer", "reader", "ensure_free", "connect", "Connection", "migrations", "views",
           "queries", "records", "verdicts", "require_store"]
