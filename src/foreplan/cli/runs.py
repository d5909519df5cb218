"""``foreplan runs``: the run store (memory.py), listed, shown, rated and forgotten.

    foreplan runs list                 the newest runs: id, outcome, rating, instruction
    foreplan runs show 12 [--json]     one run: plan, evidence summary, answer, usage
    foreplan runs rate 12 good|bad     good: reused and shown as an example; bad: never
    foreplan runs forget 12 | --all    delete one run, or all of them
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from foreplan.cli.common import DebugOpt, JsonOpt, err, errors, out

runs_app = typer.Typer(no_args_is_help=True, help="Past runs, which the planner learns from (--no-memory: off).")

RunIdArg = Annotated[int, typer.Argument(help="The run's id (foreplan runs list).")]


def _store():
    from foreplan.memory import RunMemory

    return RunMemory()


@runs_app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many, newest first.")] = 20,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The newest stored runs."""
    with errors(as_json, debug):
        store = _store()
        runs = store.recent(limit)
        if as_json:
            out.print_json(json.dumps([r.to_dict() for r in runs], ensure_ascii=False))
            return
        if not runs:
            err.print(f"No stored runs in {store.path}.", highlight=False)
            return
        table = Table("id", "when", "outcome", "rating", "s", "instruction", box=None)
        for r in runs:
            table.add_row(str(r.id), datetime.fromtimestamp(r.at).strftime("%Y-%m-%d %H:%M"), r.outcome,
                          r.rating or "", f"{r.seconds:.1f}", r.instruction[:80])
        out.print(table)


@runs_app.command("show")
def show(run_id: RunIdArg, as_json: JsonOpt = False, debug: DebugOpt = False) -> None:
    """One stored run: its plan, evidence, answer and usage."""
    with errors(as_json, debug):
        run = _store().get(run_id)
        if as_json:
            out.print_json(json.dumps(run.to_dict(), ensure_ascii=False))
            return
        out.print(f"[bold]#{run.id}[/] {run.instruction}", highlight=False)
        out.print(f"[dim]{run.outcome}{' · rated ' + run.rating if run.rating else ''} · {run.seconds:.1f}s · "
                  f"toolkit {run.toolkit}[/]", highlight=False)
        out.print(run.plan.rstrip(), markup=False, highlight=False)
        for step, e in run.evidence.items():
            out.print(f"[dim]#{step} {e['tool']} ({e['status']}):[/] {e['text']}", highlight=False)
        out.print(f"[bold]Answer:[/] {run.answer}", highlight=False)


@runs_app.command("rate")
def rate(
    run_id: RunIdArg,
    rating: Annotated[str, typer.Argument(help="good (reuse it, show it as an example) or bad (never).")],
    debug: DebugOpt = False,
) -> None:
    """Rate a run: good runs are reused and shown to the planner as examples; bad ones never."""
    with errors(False, debug):
        _store().rate(run_id, rating)
        out.print(f"run {run_id} rated {rating}", highlight=False)


@runs_app.command("forget")
def forget(
    run_id: Annotated[int | None, typer.Argument(help="The run's id.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Forget every stored run.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Delete one stored run, or all of them."""
    from foreplan.errors import ConfigError

    with errors(False, debug):
        if (run_id is None) == (not everything):
            raise ConfigError("give a run id or --all (not both)")
        removed = _store().forget(None if everything else run_id)
        if run_id is not None and removed == 0:
            raise ConfigError(f"no stored run has id {run_id}; `foreplan runs list` shows them")
        out.print(f"forgot {removed} run{'s' if removed != 1 else ''}", highlight=False)
