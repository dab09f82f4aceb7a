"""The Typer application every command module registers on."""

import typer

app = typer.Typer(help="Measure whether a language model knows what it knows: sample, grade, "
                       "score semantic calibration.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
judges_app = typer.Typer(help="LLM judges: add, list, compare.", no_args_is_help=True)
app.add_typer(judges_app, name="judges")
