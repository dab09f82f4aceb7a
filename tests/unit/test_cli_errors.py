"""Every error a user can reach from the read commands is one line naming what they typed, never
a traceback (the writing commands' bad input is covered in tests/integration/test_reliability)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from workbench.cli import app


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "wb.duckdb"
    return path, make_run(path, CAPS, TEXTS)


CASES = [
    (["show", "run_nope"], "run_nope"),
    (["show", "zzz_nope"], "zzz_nope"),
    (["questions", "run_nope"], "run_nope"),
    (["samples", "grd_nope", "fr"], "grd_nope"),
    (["diff", "run_a", "run_b"], "run_a"),
    (["ablate", "grd_nope", "-m", "1,2"], "grd_nope"),
    (["ablate", "grd_nope", "-m", "one,two"], "--samples/-m"),
    (["ablate", "grd_nope"], "--samples/-m"),
    (["score", "grd_nope"], "grd_nope"),
    (["grade", "run_nope"], "run_nope"),
    (["resume", "run_nope"], "run_nope"),
    (["sql", "SELEC nonsense"], "syntax"),
    (["sql", "--view", "no_such_view"], "--view"),
    (["sql", "DELETE FROM runs"], "read-only"),
    (["compare", "--dataset", "no-such-dataset"], "no-such-dataset"),
    (["report", "--dataset", "caps", "--diff", "onlyone"], "--diff"),
    (["tunings", "--format", "json"], None),  # an empty listing is not an error
]


@pytest.mark.parametrize("args,names", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_each_error_is_one_line_naming_the_input(store, args, names):
    path, _ = store
    res = CliRunner().invoke(app, [*args, "--db", str(path)])
    assert "Traceback" not in res.output and not (
        res.exception and not isinstance(res.exception, SystemExit)), res.output
    if names is None:
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert names.lower() in lines[0].lower(), res.output
