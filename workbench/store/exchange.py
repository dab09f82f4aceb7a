"""Runs carried between stores: ``export`` writes runs with their dataset, samples, gradings,
scores (and the tunings, judges and experiments they name) as one Parquet file per table plus
a manifest (schema version, row counts, content hashes); ``import_`` brings such a folder into
another store. DuckDB writes and reads the Parquet.

Ids are kept, so an import is idempotent (rows whose key is already stored are skipped) and two
stores made on two machines merge into one where ``compare`` and ``diff`` see both. The MLflow
link of each imported record is cleared (its MLflow run lives on the other machine): the
records are pending here, and ``workbench mirror`` mirrors them into this store's MLflow.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..errors import ExchangeError

FORMAT = "workbench-export"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Part:
    table: str
    key: tuple[str, ...]  # its primary key: a row whose key is stored is not imported again
    where: str  # selects the exported runs' rows; $1 is the list of run ids


_R = "(SELECT unnest($1::VARCHAR[]))"
_DATASETS = (f"(SELECT dataset_id FROM runs WHERE run_id IN {_R} UNION SELECT t.dataset_id FROM "
             f"tunings t JOIN runs r USING (tuning_id) WHERE r.run_id IN {_R})")
_GRADINGS = f"(SELECT grading_id FROM gradings WHERE run_id IN {_R})"

# In the order an import inserts them (what a row names comes before it).
PARTS = (
    Part("datasets", ("dataset_id",), f"dataset_id IN {_DATASETS}"),
    Part("questions", ("dataset_id", "question_id"), f"dataset_id IN {_DATASETS}"),
    Part("tunings", ("tuning_id",),
         f"tuning_id IN (SELECT tuning_id FROM runs WHERE run_id IN {_R})"),
    Part("tuning_steps", ("tuning_id", "step"),
         f"tuning_id IN (SELECT tuning_id FROM runs WHERE run_id IN {_R})"),
    Part("runs", ("run_id",), f"run_id IN {_R}"),
    Part("run_questions", ("run_id", "question_id"), f"run_id IN {_R}"),
    Part("prompts", ("run_id", "question_id"), f"run_id IN {_R}"),
    Part("samples", ("run_id", "question_id", "sample_idx"), f"run_id IN {_R}"),
    Part("judges", ("name", "version"), f"(name, version) IN (SELECT (judge, judge_version) "
                                        f"FROM gradings WHERE run_id IN {_R})"),
    Part("gradings", ("grading_id",), f"run_id IN {_R}"),
    Part("grading_errors", ("grading_id", "question_id"), f"grading_id IN {_GRADINGS}"),
    Part("sample_classes", ("grading_id", "question_id", "sample_idx"),
         f"grading_id IN {_GRADINGS}"),
    Part("class_grades", ("grading_id", "question_id", "class_id"),
         f"grading_id IN {_GRADINGS}"),
    Part("elicited", ("grading_id", "question_id", "measure"), f"grading_id IN {_GRADINGS}"),
    Part("scores", ("score_id",), f"grading_id IN {_GRADINGS}"),
    Part("score_metrics", ("score_id", "metric"),
         f"score_id IN (SELECT score_id FROM scores WHERE grading_id IN {_GRADINGS})"),
    Part("score_questions", ("score_id", "question_id"),
         f"score_id IN (SELECT score_id FROM scores WHERE grading_id IN {_GRADINGS})"),
    Part("ablations", ("ablation_id",), f"grading_id IN {_GRADINGS}"),
    Part("ablation_rows", ("ablation_id", "m", "metric"),
         f"ablation_id IN (SELECT ablation_id FROM ablations WHERE grading_id IN {_GRADINGS})"),
    Part("experiments", ("experiment_id",),
         f"experiment_id IN (SELECT experiment_id FROM experiment_runs WHERE run_id IN {_R})"),
    Part("experiment_runs", ("experiment_id", "run_id"), f"run_id IN {_R}"),
    Part("experiment_cells", ("experiment_id", "cell_key"),
         f"experiment_id IN (SELECT experiment_id FROM experiment_runs WHERE run_id IN {_R})"),
)
MIRROR_COLUMNS = ("mlflow_run_id", "mirrored_status", "mirror_error")


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def export(con, db: Path, run_ids: list[str], folder: Path, schema_version: int,
           package_version: str) -> dict:
    """Write ``run_ids`` (stored, resolved) and what they name under ``folder``; returns the
    manifest. The folder must be new or empty: an export never overwrites another."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ExchangeError("to", f"{folder} exists and is not an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    tables = {}
    for part in PARTS:
        file = folder / f"{part.table}.parquet"
        quoted = str(file).replace("'", "''")
        (n,) = con.execute(f"COPY (SELECT * FROM {part.table} WHERE {part.where} ORDER BY "
                           f"{', '.join(part.key)}) TO '{quoted}' (FORMAT parquet)",
                           [run_ids]).fetchone()  # COPY answers the rows it wrote
        tables[part.table] = {"file": file.name, "rows": n, "sha256": _sha256(file)}
    artifacts = {}
    for (stored,) in con.execute(
            f"SELECT diagram_path FROM scores WHERE diagram_path IS NOT NULL AND grading_id IN "
            f"{_GRADINGS}", [run_ids]).fetchall():
        src = config.artifact_path(db, stored)
        if Path(stored).is_absolute() or not src.is_file():
            continue  # outside the store's folder, or gone: not carried
        dst = folder / "artifacts" / stored
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        artifacts[stored] = _sha256(dst)
    manifest = {"format": FORMAT, "schema_version": schema_version,
                "workbench": package_version, "runs": sorted(run_ids), "tables": tables,
                "artifacts": artifacts}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_manifest(folder: Path, newest_known: int) -> dict:
    """The folder's manifest, checked whole before anything is stored: its format, a schema
    this workbench knows, every file present with the hash the manifest gives."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise ExchangeError("folder", f"{folder} has no {MANIFEST}: not a workbench export")
    try:
        manifest = json.loads(path.read_text())
        tables, version = manifest["tables"], int(manifest["schema_version"])
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}")
    except (ValueError, KeyError, TypeError) as exc:
        raise ExchangeError("folder", f"{path} is not a workbench export manifest ({exc})") \
            from None
    if version > newest_known:
        raise ExchangeError("folder", f"{folder} was exported with schema version {version}, "
                                      f"newer than this workbench knows ({newest_known}); "
                                      "upgrade workbench to import it")
    unknown = sorted(set(tables) - {p.table for p in PARTS})
    if unknown:
        raise ExchangeError("folder", f"{path} lists tables this workbench does not know: "
                                      f"{', '.join(unknown)}")
    files = [(folder / t["file"], t["sha256"]) for t in tables.values()]
    files += [(folder / "artifacts" / k, v) for k, v in manifest.get("artifacts", {}).items()]
    for file, want in files:
        if not file.is_file():
            raise ExchangeError("folder", f"{file} is missing (listed in {MANIFEST})")
        if _sha256(file) != want:
            raise ExchangeError("folder", f"{file} does not match its hash in {MANIFEST} "
                                          "(changed or cut short since the export)")
    return manifest


def import_(con, db: Path, folder: Path, manifest: dict) -> dict[str, int]:
    """Insert the export's rows that ``con``'s store lacks (inside the caller's transaction);
    returns rows added per table. Artifacts are copied beside the store after the rows."""
    folder = Path(folder)
    added = {}
    for part in PARTS:
        entry = manifest["tables"].get(part.table)
        if entry is None or not entry["rows"]:
            added[part.table] = 0
            continue
        columns = {r[0] for r in con.execute(f"DESCRIBE {part.table}").fetchall()}
        cleared = [c for c in MIRROR_COLUMNS if c in columns]
        replace = (f" REPLACE ({', '.join(f'NULL AS {c}' for c in cleared)})"
                   if cleared else "")
        if part.table == "samples" and "prompts" not in manifest["tables"]:
            replace = " EXCLUDE (prompt)"  # before schema 19 each sample carried its prompt
            added["prompts"] += _prompts_from_samples(con, folder / entry["file"])
        match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM src.{k}" for k in part.key)
        (added[part.table],) = con.execute(  # INSERT answers the rows it added
            f"INSERT INTO {part.table} BY NAME SELECT *{replace} FROM read_parquet(?) src "
            f"WHERE NOT EXISTS (SELECT 1 FROM {part.table} t WHERE {match})",
            [str(folder / entry["file"])]).fetchone()
    return added


def _prompts_from_samples(con, file: Path) -> int:
    """An export made before prompts were stored once: its samples' prompts, one per run and
    question, where this store lacks them."""
    (n,) = con.execute(
        "INSERT INTO prompts SELECT run_id, question_id, any_value(prompt) FROM read_parquet(?) "
        "src WHERE NOT EXISTS (SELECT 1 FROM prompts t WHERE t.run_id = src.run_id AND "
        "t.question_id = src.question_id) GROUP BY ALL", [str(file)]).fetchone()
    return n


def copy_artifacts(db: Path, folder: Path, manifest: dict) -> int:
    """The export's diagrams into this store's folder, where its scores record them; one
    already there is kept. Returns how many were copied."""
    copied = 0
    for stored in manifest.get("artifacts", {}):
        dst = config.artifact_path(db, stored)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(folder) / "artifacts" / stored, dst)
            copied += 1
    return copied
