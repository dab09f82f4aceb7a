"""A judge is always explicit; questions and samples one command away; ids by prefix; listings
as table, CSV or JSON."""

from __future__ import annotations

from typer.testing import CliRunner

from workbench.cli import app


def test_an_unknown_dataset_name_suggests_the_close_ones(tmp_path):
    done = CliRunner().invoke(app, ["generate", "--model", "gemma-3-270m", "--dataset",
                                    "gsm8kk", "--db", str(tmp_path / "x.duckdb")])
    assert done.exit_code == 1 and "did you mean gsm8k?" in done.output


def test_fit_wraps_only_long_text():
    from rich.console import Console
    from rich.table import Table

    from workbench.render.console import fit

    table = Table("question_id", "question", "confidence")
    table.add_row("capital-of-australia", "What is the capital city of Australia, the country "
                  "whose largest city is Sydney?", "0.850")
    console = Console(width=60, record=True)
    console.print(fit(console, table))
    text = console.export_text()
    assert "capital-of-australia" in text and "0.850" in text  # short values stay whole
    assert "── 1 of" not in text  # it fits once the question wraps
    narrow = Console(width=34, record=True)
    narrow.print(fit(narrow, table))
    text = narrow.export_text()
    assert "── 1 of 1 ──" in text and "capital-of-australia" in text  # long text: blocks
    assert max(len(line) for line in text.splitlines()) <= 34
