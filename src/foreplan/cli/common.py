"""What every ``foreplan`` command shares: the one error path, the consoles, the common
options, and how a toolkit, a model and an agent are built from them.

Command modules import this one and nothing else of the CLI, so the package has no
import cycle (tests/test_cli_package.py checks it). Every command runs its body inside
:func:`errors`, so ``--json`` and ``--debug`` mean the same everywhere:

    ForeplanError      one paragraph (or {"error": {...}} with --json), exit 1
    Ctrl-C             "cancelled", exit 130
    anything else      "Internal error: ... run again with --debug", exit 1
    --debug            the exception itself, with its traceback and cause
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from foreplan.errors import ConfigError, ForeplanError, RunCancelled

if TYPE_CHECKING:
    from foreplan.agent import Agent
    from foreplan.llm.base import LLM
    from foreplan.llm.resolve import ModelRegistry
    from foreplan.tools.toolkit import Toolkit

out = Console()
"""Results: tables, answers, JSON."""
err = Console(stderr=True)
"""Progress, notes and errors, so that ``--json`` output stays one clean object."""

ModelOpt = Annotated[str, typer.Option("--model", "-m", envvar="FOREPLAN_MODEL", help="Planner and solver: embedded name, GGUF path or openai:URL#MODEL.")]
PlannerOpt = Annotated[str | None, typer.Option("--planner", envvar="FOREPLAN_PLANNER", help="Planner only (e.g. embedded-0.5b-planner); --model then writes the answer.")]
CallerOpt = Annotated[str, typer.Option("--caller-model", envvar="FOREPLAN_CALLER_MODEL", help="Function caller for tools with several arguments.")]
ToolsOpt = Annotated[list[Path] | None, typer.Option("--tools", help="Python file whose @tool functions join the toolkit (repeatable).")]
ToolkitOpt = Annotated[Path | None, typer.Option("--toolkit", envvar="FOREPLAN_TOOLKIT", help="Toolkit file (TOML): tools, providers, workspace, database.")]
GrammarOpt = Annotated[bool, typer.Option("--grammar/--no-grammar", help="Constrain the planner with the plan grammar.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the live view.")]
StepsOpt = Annotated[int, typer.Option("--max-steps", min=1, max=20, help="Most steps a plan may have.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
ReplansOpt = Annotated[int, typer.Option("--max-replans", min=0, max=5, help=(
    "Rounds of new steps when a step fails, times out or finds nothing, or the solver finds no answer (0: none)."))]
KeywordArgumentsOpt = Annotated[bool, typer.Option("--keyword-arguments", help=(
    "Constrain every step of a tool with several arguments to name them (name='value', ...), from the first "
    "attempt; without it only the repair round does, for tools whose input did not fit."))]
AllToolsOpt = Annotated[bool, typer.Option("--all-tools", help=(
    "Show the planner every tool; by default a toolkit of more than 16 tools is cut to those matching the task."))]
MemoryOpt = Annotated[bool, typer.Option("--memory/--no-memory", envvar="FOREPLAN_USE_MEMORY", help=(
    "Store this run and learn from past ones: reuse the plan of the same task, show similar ones as examples."))]
AllowUntrustedOpt = Annotated[list[str] | None, typer.Option("--allow-untrusted", help="Let evidence fill this sensitive argument of a side-effect tool, as TOOL.ARG or ARG (repeatable).")]


@contextmanager
def errors(as_json: bool = False, debug: bool = False) -> Iterator[None]:
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
              "Run again with --debug for the traceback and report it (with `foreplan doctor`'s output).",
              1, debug)


def _fail(as_json: bool, kind: str, message: str, code: int, debug: bool) -> None:
    if debug:
        raise  # noqa: PLE0704 - called only from the except blocks above
    if as_json:
        out.print_json(json.dumps({"error": {"type": kind, "message": message}}))
    else:
        err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def check_instruction(instruction: str) -> None:
    """Refuse an empty instruction before any model loads."""
    if not instruction.strip():
        raise ConfigError("The instruction is empty: say what the agent should do.")


def assembly_progress() -> Callable[[str, int, int], None]:
    """A progress bar on stderr for assembling embedded models: ``report(name, done, total)``."""
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

    return report


def model_registry() -> ModelRegistry:
    """The models of one command: embedded names go to ``FOREPLAN_SERVER`` when it is set."""
    from foreplan.llm.resolve import ModelRegistry

    return ModelRegistry.from_env()


def resolve(spec: str, registry: ModelRegistry | None = None) -> LLM:
    """The model behind ``spec`` (embedded name, GGUF path, ``openai:`` URL), with a
    progress bar while an embedded model is assembled."""
    return (registry or model_registry()).resolve(spec, assembly_progress())


def load_toolkit(toolkit_file: Path | None, tools_files: list[Path] | None = None) -> Toolkit:
    """The toolkit from a toolkit file (or the default one) plus ``--tools`` files."""
    from foreplan.tools.config import build_toolkit, load_toolkit_config
    from foreplan.tools.toolkit import load_tools_file

    toolkit = build_toolkit(load_toolkit_config(toolkit_file) if toolkit_file else None)
    for path in tools_files or []:
        for t in load_tools_file(path):
            toolkit.add(t, replace=True)
    return toolkit


def build_agent(model: str, caller_model: str | None, tools: list[Path] | None, grammar: bool, max_steps: int,
                trace: Path | None = None, toolkit_file: Path | None = None,
                planner_model: str | None = None, allow_untrusted: list[str] | None = None,
                max_replans: int = 1, all_tools: bool = False, memory: bool = False,
                keyword_arguments: bool = False) -> Agent:
    """The agent the options describe. The caller model is loaded only when a tool takes
    several arguments (or ``caller_model`` is None: no caller at all)."""
    from foreplan.agent import Agent

    toolkit = load_toolkit(toolkit_file, tools)
    toolkit.allow_untrusted |= set(allow_untrusted or ())
    models = model_registry()  # one per agent: roles that name the same model share it
    planner = resolve(planner_model or model, models)
    solver = resolve(model, models) if planner_model else None
    needs_caller = caller_model is not None and any(t.single_input is None for t in toolkit)
    caller = resolve(caller_model, models) if needs_caller else None
    agent = Agent(planner, toolkit, caller=caller, solver=solver, grammar=grammar, max_steps=max_steps, trace=trace,
                  max_replans=max_replans, keyword_arguments=keyword_arguments)
    if all_tools:
        agent.max_tools = None
    if memory:
        from foreplan.errors import RunStoreError
        from foreplan.memory import RunMemory

        try:
            agent.memory = RunMemory()
        except RunStoreError as exc:  # a broken store costs memory, never the run
            err.print(f"[yellow]Note:[/] memory is off for this run: {escape(str(exc))}", highlight=False)
    return agent
