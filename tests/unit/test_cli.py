"""The CLI as a user meets it: --help for every command, the read commands, and errors."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from workbench.cli import app

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)  # what the app registers, not a copy


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def _commands(group=None, path=()):
    """(path, click command) for every command, judges' subcommands included."""
    group = group or typer.main.get_command(app)
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


ALL = dict(_commands())


def _flat(text: str) -> str:
    """--help as words: the box drawing and the line wrapping taken out."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


@pytest.mark.parametrize("path", sorted(ALL), ids=" ".join)
def test_every_option_shows_its_help_and_default(path):
    """Each visible option of each command shows a non-empty help and its default: a value
    default as Typer prints it, a stated one (show_default="...") word for word. Rich markup
    in a help string would eat text, which this sees as a missing help or default."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    assert (ALL[path].help or "").strip(), f"{path}: the command has no docstring"
    for opt in ALL[path].params:
        if not opt.opts[0].startswith("--") or getattr(opt, "hidden", False):
            continue  # arguments are named in Usage; hidden options are deprecated spellings
        flag = opt.opts[0]
        assert opt.help and opt.help.strip(), f"{' '.join(path)} {flag}: no help"
        assert _flat(opt.help) in shown, f"{' '.join(path)} {flag}: help not shown whole"
        stated = opt.show_default if isinstance(opt.show_default, str) else None
        if stated:
            assert f"[default: ({_flat(stated)})]" in shown, f"{' '.join(path)} {flag}: default"
        elif opt.default not in (None, False, ()) and opt.show_default is not False \
                and not opt.required and opt.opts[0] != "--help":
            assert "[default: " in shown.split(flag, 1)[1], f"{' '.join(path)} {flag}: default"


def test_help_lists_the_pipeline_first():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    first = [line.strip("│ ").split(" ")[0] for line in result.output.splitlines()]
    listed = [w for w in first if w in COMMANDS]
    assert listed[:4] == ["generate", "grade", "score", "run"], listed
    assert sorted(listed) == COMMANDS


# One vocabulary: each flag means one thing on every command that shows it.
VOCABULARY = {
    "--judge": {("grade",), ("run",)},  # the judge that grades
    "--graded-by": {("runs",), ("questions",), ("samples",), ("diff",), ("ablate",), ("score",),
                    ("elicit",),
                    ("compare",), ("report",)},  # which gradings, by the judge that made them
    "--reward-judge": {("tune",)},
}
LISTINGS = {("runs",), ("questions",), ("samples",), ("datasets",), ("show",), ("sql",),
            ("diff",), ("compare",), ("tunings",), ("judges", "list"), ("judges", "compare"),
            ("check-server",)}


def test_each_flag_means_one_thing():
    for flag, where in VOCABULARY.items():
        have = {p for p, cmd in ALL.items() if any(flag in o.opts and not o.hidden
                                                    for o in cmd.params)}
        assert have == where, (flag, have ^ where)
    for path, cmd in ALL.items():  # -m is the number of samples wherever it is a flag
        for o in cmd.params:
            if "-m" in o.opts:
                assert "--samples" in o.opts, path
    for path in LISTINGS:
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "300"}).output
        line = next(ln for ln in shown.splitlines() if "--format" in ln)
        assert "<table|csv|json>" in line, (path, line)


def test_old_spellings_still_work_with_a_warning(tmp_path):
    db = tmp_path / "wb.duckdb"
    make_run(db, CAPS, TEXTS)
    for old, new in ((["runs", "--judge", "exact"], ["runs", "--graded-by", "exact"]),):
        was = runner.invoke(app, [*old, "--db", str(db), "--format", "json"])
        now = runner.invoke(app, [*new, "--db", str(db), "--format", "json"])
        assert was.exit_code == now.exit_code == 0, was.output
        assert "--judge is deprecated here; use --graded-by" in was.output
    bad = runner.invoke(app, ["runs", "--format", "yaml", "--db", str(db)])
    assert bad.exit_code == 2 and "yaml" in bad.output


def test_readme_commands_exist():
    """The README's quick start names only commands the CLI has."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    used = {line.split()[1] for line in readme.splitlines()
            if line.startswith("workbench ") and len(line.split()) > 1}
    assert used and used <= set(COMMANDS), used - set(COMMANDS)
    assert {"generate", "grade", "score", "run", "judges"} <= set(COMMANDS)
