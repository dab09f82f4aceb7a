"""The install is locked: requirements.lock pins every package, and each of pyproject.toml's
requirements (with the dev extra) is pinned there at a version its range admits."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def pins(text: str) -> dict[str, Version]:
    found = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: {line!r} is not pinned with =="
        key = canonicalize_name(name)
        assert key not in found, f"requirements.lock: {name} twice"
        found[key] = Version(version)
    return found


def disagreements(pyproject: dict, locked: dict[str, Version]) -> list[str]:
    project = pyproject["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    bad = []
    for text in wanted:
        req = Requirement(text)
        have = locked.get(canonicalize_name(req.name))
        if have is None:
            bad.append(f"{req.name}: in pyproject.toml, not in requirements.lock")
        elif not req.specifier.contains(have, prereleases=True):
            bad.append(f"{req.name}: locked {have}, pyproject.toml wants {req.specifier}")
    return bad


def test_the_lock_agrees_with_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    locked = pins((ROOT / "requirements.lock").read_text())
    assert disagreements(pyproject, locked) == [], "run `make lock`"
    assert locked[canonicalize_name("torch")].public == "2.13.0"  # the CPU build on disk


def test_the_check_sees_a_range_the_lock_breaks():
    pyproject = {"project": {"dependencies": ["duckdb>=9", "numpy>=1.26", "nothere"],
                             "optional-dependencies": {"dev": []}}}
    assert disagreements(pyproject, {"duckdb": Version("2.0.1"),
                                     "numpy": Version("2.4.6")}) == [
        "duckdb: locked 2.0.1, pyproject.toml wants >=9",
        "nothere: in pyproject.toml, not in requirements.lock"]
