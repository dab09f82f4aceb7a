"""``workbench export`` and ``import``: runs carried between stores (another machine's, a
colleague's) as Parquet plus a manifest (``store/exchange.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import app
from .common import DbOpt, api, friendly, out


@app.command()
@friendly(run_ids="RUN", to="--to")
def export(run_ids: List[str] = typer.Argument(..., metavar="RUN...", help="run ids (or "
                                               "prefixes)"),
           to: Path = typer.Option(..., "--to", help="a new (or empty) folder"),
           db: Optional[Path] = DbOpt):
    """Write runs with their dataset, samples, gradings and scores as Parquet plus a manifest,
    for `workbench import` into another store."""
    manifest = api.export_runs(run_ids, to, db_path=db)
    rows = {k: v["rows"] for k, v in manifest["tables"].items() if v["rows"]}
    out.print(f"exported {len(manifest['runs'])} run(s) to {to} (schema version "
              f"{manifest['schema_version']}): "
              + ", ".join(f"{k} {n:,}" for k, n in rows.items()), highlight=False, soft_wrap=True)


@app.command(name="import")
@friendly(folder="FOLDER")
def import_(folder: Path = typer.Argument(..., help="a folder `workbench export` wrote"),
            db: Optional[Path] = DbOpt):
    """Bring exported runs into this store: ids kept, rows already here skipped (importing
    twice adds nothing); `workbench mirror` then shows them in this store's MLflow."""
    added = api.import_runs(folder, db_path=db)
    new = {k: n for k, n in added.items() if n}
    out.print(f"imported from {folder}: " + (", ".join(f"{k} {n:,}" for k, n in new.items())
                                              if new else "nothing new (already in the store)"),
              highlight=False, soft_wrap=True)
