"""``foreplan demo``: the seed's showcase, run offline and reproducibly.

The seed asked "What movies did the director of 'Inception' direct? List one of them and
search it on bilibili." against live services. Here every tool answers locally:

    query_sql        bokeh-sampledata's movies.db (table omdb: Title, Year, Director…)
    search_wiki      an offline FTS index of a few film pages (built on the fly)
    search_bilibili  standins.py's replica of Bilibili's search API on 127.0.0.1

The replicas are labelled as such in the output: nothing here reaches the real services.
``foreplan demo --print-toolkit`` writes the toolkit file the demo uses, so the same run
works with ``foreplan run --toolkit`` next to ``foreplan tools standins``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from foreplan.cli.common import DebugOpt, build_agent, errors, out
from foreplan.cli.view import RunView

DEMO_TASK = "What movies did the director of 'Inception' direct? List one of them and search it on bilibili."
#: The demo toolkit's worked example for the planner: another question over the same
#: tools (films of the same year as 'Heat'), as a toolkit author would write one.
DEMO_EXAMPLE = """Task: Which other films came out in the same year as 'Heat'? Name one and find videos about it on bilibili.
Plan: Look up the year 'Heat' came out in the movies database.
#E1 = query_sql[SELECT Title, Year FROM omdb WHERE Title = 'Heat']
Plan: List the films from that year.
#E2 = query_sql[SELECT Title FROM omdb WHERE Year = #E1.rows[0].Year AND Title != 'Heat' LIMIT 10]
Plan: Search bilibili for videos about one of those films.
#E3 = search_bilibili[#E2.rows[0].Title]"""
REPLICA_NOTE = ("[yellow]Offline demo:[/] movies.db from bokeh-sampledata, a local film index, and a "
                "[bold]local replica[/] of Bilibili's search on {url} (not the real service).")


def demo_index(path: Path) -> Path:
    """Write the offline film index (the stand-ins' wiki pages) to ``path``."""
    from foreplan.tools.corpus import Document, build_index
    from foreplan.tools.standins import PAGES

    build_index((Document(title, text, url) for title, url, text in PAGES), path)
    return path


def demo_toolkit_toml(index: Path, standin_url: str) -> str:
    """The toolkit file of the demo: query_sql on movies.db, the film index, the replica."""
    from foreplan.tools.sql import movies_db_path

    return (
        "# foreplan demo toolkit: every service is local (run `foreplan tools standins` for the replica)\n"
        # no LLM tool: the planner must take its facts from the database and the index
        'tools = ["query_sql", "search_wiki", "search_bilibili"]\n'
        f'planner_example = """\n{DEMO_EXAMPLE}"""\n\n'
        f'[query_sql]\nurl = "sqlite:///{movies_db_path()}"\nmax_rows = 20\n\n'
        f'[search_wiki]\nprovider = "offline"\nindex = "{index}"\n\n'
        f'[search_bilibili]\nbase_url = "{standin_url}"   # a local replica, not bilibili.com\n'
    )


def run_demo(console: Console, make_agent: Callable[[Path], Any], *, task: str = DEMO_TASK, port: int = 0,
             live: bool = True) -> Any:
    """Start the replica, write the toolkit, run ``task`` with the agent ``make_agent(toolkit_file)``.

    Returns:
        the :class:`~foreplan.agent.RunResult`.
    """
    from foreplan.tools.standins import StandinHTTPServer

    with tempfile.TemporaryDirectory(prefix="foreplan-demo-") as tmp, StandinHTTPServer(port=port) as replica:
        index = demo_index(Path(tmp) / "films.sqlite")
        toolkit_file = Path(tmp) / "toolkit.toml"
        toolkit_file.write_text(demo_toolkit_toml(index, replica.url), encoding="utf-8")
        console.print(REPLICA_NOTE.format(url=replica.url), highlight=False)
        console.print(f"[bold]Task:[/] {task}", highlight=False)
        agent = make_agent(toolkit_file)
        if live:
            with RunView(console) as view:
                result = agent.run(task, on_event=view)
        else:
            result = agent.run(task)
    console.print()
    console.print(f"[bold]Answer:[/] {result.answer}", highlight=False)
    console.print("[dim]bilibili results above came from the local replica (standins.py).[/]", highlight=False)
    return result


def demo(
    model: Annotated[str | None, typer.Option("--model", "-m", envvar="FOREPLAN_MODEL", help="Planner and solver (as for foreplan run).")] = None,
    planner: Annotated[str | None, typer.Option("--planner", envvar="FOREPLAN_PLANNER", help="Planner only; --model then writes the answer.")] = None,
    caller_model: Annotated[str | None, typer.Option("--caller-model", envvar="FOREPLAN_CALLER_MODEL", help="Function caller.")] = None,
    grammar: Annotated[bool, typer.Option("--grammar/--no-grammar", help="Constrain the planner with the plan grammar.")] = True,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, max=20, help="Most steps a plan may have.")] = 6,
    port: Annotated[int, typer.Option("--port", help="Port of the Bilibili replica on 127.0.0.1 (0: any free one).")] = 0,
    print_toolkit: Annotated[bool, typer.Option("--print-toolkit", help="Write the demo's toolkit file to stdout and stop.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Run the seed's showcase offline: movies.db, a film index and a local Bilibili replica."""
    from foreplan.llm.registry import DEFAULT_CALLER, DEFAULT_PLANNER

    with errors(False, debug):
        if print_toolkit:
            from foreplan.tools.wiki import default_index_path

            index = demo_index(default_index_path().parent / "demo-films.sqlite")
            typer.echo(demo_toolkit_toml(index, f"http://127.0.0.1:{port or 8765}"), nl=False)
            return
        run_demo(out, lambda toolkit_file: build_agent(model or DEFAULT_PLANNER, caller_model or DEFAULT_CALLER, None,
                                                       grammar, max_steps, toolkit_file=toolkit_file,
                                                       planner_model=planner), port=port)  # fmt: skip
