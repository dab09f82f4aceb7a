"""The Typer application every command module registers on."""

import typer
from typer.core import TyperGroup

# The order `workbench --help` lists the commands in: the pipeline as it runs, then reading the
# store, comparing, tuning, judges and the servers (a command not named here comes last).
ORDER = ["generate", "grade", "score", "run", "resume", "ablate", "elicit",
         "runs", "archive", "delete", "questions", "samples", "show", "datasets", "sql",
         "diff", "compare", "report", "experiment", "tune", "tunings", "judges",
         "doctor", "mirror", "export", "import", "serve", "check-server", "ui", "demo"]


class PipelineOrder(TyperGroup):
    def list_commands(self, ctx):
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))


app = typer.Typer(help="Measure whether a language model knows what it knows: sample, grade, "
                       "score semantic calibration.", no_args_is_help=True,
                  pretty_exceptions_enable=False, cls=PipelineOrder)
judges_app = typer.Typer(help="LLM judges: add, list, compare.", no_args_is_help=True)
app.add_typer(judges_app, name="judges")
experiment_app = typer.Typer(help="Experiments as files: a grid of variants, run resumably.",
                              no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")
