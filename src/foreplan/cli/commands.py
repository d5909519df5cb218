"""The ``foreplan`` app: every command group registered in one place.

    foreplan run "How many days are left this year, squared?"   plan, run, solve (live view)
    foreplan run "..." --json                                    one JSON object instead
    foreplan plan "..." --json                                   only the plan
    foreplan runs list | show ID | rate ID good | forget ID      past runs (memory)
    foreplan models list | pull NAME                             the embedded GGUF models
    foreplan serve --model planner=qwen2.5-coder-1.5b            OpenAI-compatible server
    foreplan tune --toolkit my.toml                              tune the planner on your tools
    foreplan doctor                                              versions for a bug report

Every failure the user can act on ends in one paragraph and a non-zero exit code;
tracebacks only with ``--debug`` (see common.py).
"""

from __future__ import annotations

import typer

from foreplan.cli import data, demo, doctor, eval, export, models, run, runs, serve, tools, train, tune

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan every step up front, call tools in parallel, solve from the evidence.")
app.callback()(doctor.version_option)
app.command()(run.run)
app.command()(run.plan)
app.command()(serve.serve)
app.command("demo")(demo.demo)
app.command("doctor")(doctor.doctor)
app.command("train", help=train.HELP, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    train.train_command)
app.command("tune")(tune.tune)
app.add_typer(models.models_app, name="models")
app.add_typer(tools.tools_app, name="tools")
app.add_typer(tools.corpus_app, name="corpus")
app.add_typer(runs.runs_app, name="runs")
app.add_typer(eval.eval_app, name="eval")
app.add_typer(data.data_app, name="data")
app.add_typer(export.export_app, name="export")


def main() -> None:
    app()
