"""Where things live: the DuckDB file, the MLflow store, artifacts and the caches.

Every default can be overridden by an environment variable (and, in the CLI, a flag).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .errors import MissingKey, StoreError, UsageError

DEFAULT_DB = Path("runs") / "workbench.duckdb"
EXPERIMENT_SUFFIX = " · workbench"  # ends every MLflow experiment name (tracking/project.py)


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    return Path(explicit or os.environ.get("WORKBENCH_DB") or DEFAULT_DB)


def runs_dir(db: Path) -> Path:
    """Artifacts and the MLflow store sit beside the DuckDB file."""
    return Path(db).resolve().parent


def mlflow_uri(db: Path, explicit: str | None = None) -> str:
    uri = (explicit or os.environ.get("WORKBENCH_MLFLOW_URI")
           or os.environ.get("MLFLOW_TRACKING_URI"))
    return uri or default_mlflow_uri(db)


def paths(db: Path | None, explicit_uri: str | None = None) -> tuple[Path, str]:
    """The store's path and its MLflow URI, as every command resolves them."""
    path = db_path(db)
    return path, mlflow_uri(path, explicit_uri)


def default_mlflow_uri(db: Path) -> str:
    return f"sqlite:///{runs_dir(db) / 'mlflow.db'}"


def artifacts_dir(db: Path) -> Path:
    return runs_dir(db) / "artifacts"


def stage_dir(artifacts: Path, table: str, item_id: str) -> Path:
    """Where a stage's files lie: ``artifacts/<table>/<id>/`` (``artifacts``: ``artifacts_dir``
    of the store). The stages write there and the MLflow mirror reads there."""
    return Path(artifacts) / table / item_id


def stored_path(db: Path, path: Path) -> str:
    """How the store records an artifact: relative to the store's folder when under it, so a
    copied or moved store (with its folder) still finds its artifacts."""
    path, root = Path(path).resolve(), runs_dir(db)
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def artifact_path(db: Path, stored: str | None) -> Path | None:
    """An artifact path as recorded (``stored_path``), made absolute against the store."""
    return None if stored is None else runs_dir(db) / stored


# What a server on this machine is sent when no key is set: it asks for none unless started
# with one (vLLM's --api-key), and the openai client needs some string.
NO_KEY = "no-key"


def api_key(env: str, who: str, url: str | None = None) -> str:
    """The API key in environment variable ``env``, read for ``who`` ("the backend", "judge
    'x'"); one error, worded once, wherever a key is missing. A server on this machine
    (``url`` on a loopback address) needs none."""
    key = os.environ.get(env)
    if not key and url and is_loopback(url):
        return NO_KEY
    if not key:
        raise MissingKey(f"{who} reads its API key from ${env}, which is not set (set it, or "
                         "name another variable with --api-key-env)")
    return key


def is_loopback(url: str) -> bool:
    """Is ``url``'s host this machine (localhost, 127.0.0.0/8, ::1)?"""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def positive(param: str, value: float) -> None:
    """Refuse a count, size or number of seconds that is not a finite number above 0 (NaN and
    infinity included), naming ``param``."""
    if not 0 < value < float("inf"):
        raise UsageError(param, f"must be a finite number > 0, got {value}")


def seconds_from_env(name: str, default: float) -> float:
    """A number of seconds from environment variable ``name``; a value that is not one is an
    error naming the variable."""
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise StoreError(f"${name} must be a number of seconds ≥ 0, got {text!r}")
    return value


def cache_root() -> Path:
    """Converted models and mapped hub datasets (``WORKBENCH_CACHE`` moves it)."""
    base = os.environ.get("WORKBENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "workbench")
    return Path(base)


def model_cache_dir() -> Path:
    return cache_root() / "models"


@contextmanager
def atomic_folder(target: Path):
    """A temporary folder beside ``target`` to fill; on a clean exit it replaces ``target``
    (written whole or not at all), on an error it is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
