"""Every error a user can reach from the read commands is one line naming what they typed, never
a traceback (the writing commands' bad input is covered in tests/integration/test_reliability)."""

from __future__ import annotations

import os
import sys

import pytest
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run, query
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
    (["ablate", "grd_nope", "-m", "1,2", "--repeats", "1000000000"], "--repeats"),
    (["score", "grd_nope", "--bootstrap", "1000000000"], "--bootstrap"),
    (["score", "grd_nope"], "grd_nope"),
    (["grade", "run_nope"], "run_nope"),
    (["resume", "run_nope"], "run_nope"),
    (["sql", "SELEC nonsense"], "syntax"),
    (["sql", ""], "empty"),
    (["tune", "--from", "gemma-3-270m", "--method", "rl", "--dataset",
      "bundled:capitals:train", "--questions-per-step", "100000"], "--questions-per-step"),
    (["serve", "--model", "gemma-3-270m", "--port", "70000"], "--port"),
    (["serve", "--model", "gemma-3-270m", "--request-timeout", "nan"], "--request-timeout"),
    (["generate", "--model", "gemma-3-270m", "--dataset", "bundled:capitals@2",
      "--max-new-tokens", "0"], "--max-new-tokens"),
    # a temperature or timeout that is no number refuses before anything loads or is stored
    *[(["generate", "--model", "gemma-3-270m", "--dataset", "bundled:capitals@2",
        "--temperature", t], "--temperature") for t in ("nan", "inf", "1e-300")],
    (["generate", "--model", "m", "--dataset", "bundled:capitals@2", "--backend", "openai",
      "--base-url", "http://127.0.0.1:9/v1", "--timeout", "nan"], "--timeout"),
    (["generate", "--model", "m", "--dataset", "bundled:capitals@2", "--backend", "openai",
      "--base-url", "not a url"], "--base-url"),
    (["show", "[/x]"], "[/x]"),  # text that looks like markup is printed as it is
    (["sql", "SELECT '[/x]' AS a"], None),
    (["sql", "--view", "no_such_view"], "--view"),
    (["sql", "DELETE FROM runs"], "read-only"),
    (["compare", "--dataset", "no-such-dataset"], "no-such-dataset"),
    (["report", "--dataset", "caps", "--diff", "onlyone"], "--diff"),
    (["report", "--dataset", "caps", "--out", "/tmp"], "--out"),  # a directory
    (["report", "--dataset", "caps", "--out", "/tmp/page.txt"], "--out"),
    (["tunings", "--format", "json"], None),  # an empty listing is not an error
    # an LLM judge's request fields are checked as a run's are (they were stored as given)
    *[(["judges", "add", "j", "--model", "m", "--base-url", "http://x.invalid/v1", flag, v], flag)
      for flag, v in (("--timeout", "nan"), ("--timeout", "-5"), ("--concurrency", "0"),
                      ("--max-retries", "-1"), ("--max-tokens", "0"), ("--base-url", "nope"))],
]


@pytest.mark.parametrize("args,names", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_each_error_is_one_line_naming_the_input(store, args, names):
    path, _ = store
    res = CliRunner().invoke(app, [*args, *(["--db", str(path)] if args[0] != "serve" else [])])
    assert "Traceback" not in res.output and not (
        res.exception and not isinstance(res.exception, SystemExit)), res.output
    if names is None:
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert names.lower() in lines[0].lower(), res.output
    assert query(path, "SELECT count(*) FROM judges WHERE name = 'j'") == [(0,)]


def test_a_missing_api_key_reads_the_same_wherever_it_is_needed(store, monkeypatch):
    """The backend and a recorded judge word an unset key alike: one line naming the variable
    (it was a flag error in one place and a judge error in another)."""
    path, run_id = store
    monkeypatch.delenv("WB_NO_SUCH_KEY", raising=False)
    runner = CliRunner()
    # A remote address (a server on this machine needs no key); nothing is connected to.
    added = runner.invoke(app, ["judges", "add", "keyless", "--model", "m", "--base-url",
                                "http://judge.invalid:9/v1", "--api-key-env", "WB_NO_SUCH_KEY",
                                "--db", str(path)])
    assert added.exit_code == 0, added.output
    outputs = [
        runner.invoke(app, ["grade", run_id, "--judge", "keyless", "--db", str(path)]).output,
        runner.invoke(app, ["generate", "--model", "m", "--dataset", "bundled:capitals@2",
                            "--backend", "openai", "--base-url", "http://judge.invalid:9/v1",
                            "--api-key-env", "WB_NO_SUCH_KEY", "--db", str(path)]).output]
    for output, who in zip(outputs, ("judge 'keyless'", "the openai backend")):
        lines = [ln for ln in output.splitlines() if ln.strip()]
        assert lines == [f"error: {who} reads its API key from $WB_NO_SUCH_KEY, which is not "
                         "set (set it, or name another variable with --api-key-env)"], output


HEADER = 3 * 4096  # DuckDB's file header and its two database headers


@pytest.mark.parametrize("damage", ["cut", "zeroed"])
def test_a_damaged_store_is_one_line_naming_it(store, tmp_path, damage):
    """A store cut short (an interrupted copy, a full disk) or with its blocks overwritten was a
    DuckDB traceback. Every block after the headers is lost, so whichever blocks the query
    needs are gone (a cut at 3/4 of the file could leave every block it reads)."""
    path, _ = store
    cut = tmp_path / "cut.duckdb"
    data = path.read_bytes()
    assert len(data) > HEADER + 4096
    cut.write_bytes(data[:HEADER + 100] if damage == "cut"
                    else data[:HEADER] + bytes(len(data) - HEADER))
    res = CliRunner().invoke(app, ["runs", "--db", str(cut)])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1 and "Traceback" not in res.output, res.output
    assert str(cut) in lines[0] and "damaged" in lines[0]


@pytest.mark.parametrize("url, needs", [("http://127.0.0.1:8000/v1", False),
                                         ("http://localhost:8000/v1", False),
                                         ("http://[::1]:8000/v1", False),
                                         ("http://10.0.0.5:8000/v1", True),
                                         ("https://api.openai.com/v1", True)])
def test_a_server_on_this_machine_needs_no_key(monkeypatch, url, needs):
    from workbench import config
    from workbench.errors import MissingKey

    monkeypatch.delenv("WB_NO_SUCH_KEY", raising=False)
    if needs:
        with pytest.raises(MissingKey):
            config.api_key("WB_NO_SUCH_KEY", "check-server", url)
    else:
        assert config.api_key("WB_NO_SUCH_KEY", "check-server", url) == config.NO_KEY
    monkeypatch.setenv("WB_NO_SUCH_KEY", "sk-set")
    assert config.api_key("WB_NO_SUCH_KEY", "check-server", url) == "sk-set"


@pytest.mark.parametrize("width", [200, 40, 20])
def test_values_that_look_like_markup_print_as_they_are_in_every_layout(width):
    """Whole, transposed or one block per row (as the console's width allows), a cell such as
    '[/x]' or '[red]…[/red]' is printed as written, never read as markup."""
    from rich.table import Table

    from workbench.render.console import FittingConsole

    console = FittingConsole(width=width, record=True)
    table = Table(title="[/t]")
    for c in ("a", "[b]", "c"):
        table.add_column(c)
    table.add_row("[/x]", "[red]hi[/red]", "a long value to push the table past its width")
    table.add_row("[/y]", "2", "3")
    console.print(table)
    text = console.export_text()
    for value in ("[/x]", "[red]hi[/red]", "[/y]", "[b]"):
        assert value in text, text


@pytest.mark.parametrize("var", ["WORKBENCH_READ_WAIT", "WORKBENCH_WRITE_WAIT"])
def test_a_lock_wait_that_is_no_number_is_one_line_naming_the_variable(store, var, monkeypatch):
    path, run_id = store
    monkeypatch.setenv(var, "soon")
    command = ["runs"] if var == "WORKBENCH_READ_WAIT" else ["grade", run_id]
    res = CliRunner().invoke(app, [*command, "--db", str(path)])
    assert res.exit_code == 1 and res.output.count("\n") == 1, res.output
    assert f"${var}" in res.output and "'soon'" in res.output


@pytest.mark.parametrize("command", [["grade", "run_x"], ["score", "grd_x"], ["resume", "run_x"],
                                     ["ablate", "grd_x", "-m", "1,2"]])
def test_a_mistyped_store_path_creates_nothing(tmp_path, command):
    """A stage that works on stored records refuses a --db with no store behind it: one line,
    and no new store (or lock file) left at the mistyped path."""
    typo = tmp_path / "typo.duckdb"
    res = CliRunner().invoke(app, [*command, "--db", str(typo)])
    assert res.exit_code == 1 and "no store at" in res.output, res.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("taken", [".access", ".lock"])
def test_a_lock_file_that_cannot_be_made_is_one_line(store, tmp_path, taken):
    """A store whose lock file cannot be created (a read-only folder; here its name taken by a
    folder, which fails for root too) was an OSError traceback from filelock."""
    path, run_id = store
    copy = tmp_path / "wb.duckdb"
    copy.write_bytes(path.read_bytes())
    (tmp_path / f"wb.duckdb{taken}").mkdir()
    args = ["runs"] if taken == ".access" else ["grade", run_id, "--judge", "exact"]
    res = CliRunner().invoke(app, [*args, "--db", str(copy)])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1 and "Traceback" not in res.output, res.output
    assert f"wb.duckdb{taken}" in lines[0] and "writable" in lines[0], res.output


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into a folder without write permission")
def test_a_read_only_folder_is_refused_before_a_model_loads(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        res = CliRunner().invoke(app, ["generate", "--model", "nope", "--dataset",
                                       "bundled:capitals@2", "--db", str(folder / "wb.duckdb")])
    finally:
        folder.chmod(0o755)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1 and "not writable" in lines[0], res.output


@pytest.mark.parametrize("command,flag,value", [
    *[("generate", f, v) for f, v in (("--max-new-tokens", "0"), ("--samples", "0"),
                                      ("--temperature", "-1"), ("--top-p", "2"),
                                      ("--batch-questions", "0"), ("--shots", "-1"),
                                      ("--style", "nope"))],
    ("tune", "--shots", "-1"), ("tune", "--style", "nope")])
def test_flags_are_refused_before_the_model_resolves(store, monkeypatch, command, flag, value):
    """A first use of a bundled model converts it (a minute, a gigabyte written): a mistyped
    flag must not cost that. Found on a fresh machine, where this printed the conversion's
    progress before its one line."""
    from workbench.backends import transformers

    def resolve(*_):
        raise AssertionError("the model resolved before the flags were checked")

    monkeypatch.setattr(transformers.Config, "resolve", resolve)
    path, _ = store
    model = ["--model", "gemma-3-270m", "--dataset", "bundled:capitals@2"] \
        if command == "generate" else ["--from", "gemma-3-270m", "--method", "sft", "--dataset",
                                       "bundled:capitals:train"]
    res = CliRunner().invoke(app, [command, *model, flag, value, "--db", str(path)])
    assert res.exit_code == 1 and res.output.startswith("error: "), res.output
    assert flag in res.output.splitlines()[0], res.output


def test_serve_refuses_a_zero_context_before_loading(monkeypatch):
    """`serve --max-context 0` was taken as "not given" and served with the model's context."""
    import types

    import workbench

    fake = types.ModuleType("workbench.server")

    def serve(*_, **__):
        raise AssertionError("served with --max-context 0")

    fake.serve = serve
    monkeypatch.setitem(sys.modules, "workbench.server", fake)
    monkeypatch.setattr(workbench, "server", fake, raising=False)
    res = CliRunner().invoke(app, ["serve", "--model", "gemma-3-270m", "--max-context", "0"])
    assert res.exit_code == 1 and res.output.startswith("error: --max-context"), res.output
