"""``foreplan tools`` and ``foreplan corpus``: look at the toolkit, call one tool, build
the offline search index.

    foreplan tools list [--toolkit toolkit.toml]
    foreplan tools call calculator --args '{"expression": "2^10"}'
    foreplan corpus build --hotpotqa ../shared/data/hotpotqa/hotpot_dev_distractor_sample.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from foreplan.cli.common import DebugOpt, ToolkitOpt, errors, load_toolkit, out

tools_app = typer.Typer(no_args_is_help=True, help="The toolkit: list tools, call one.")
corpus_app = typer.Typer(no_args_is_help=True, help="The offline full-text index behind search_wiki.")


@tools_app.command("list")
def tools_list(
    toolkit_file: ToolkitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Names, descriptions and JSON schemas as JSON.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Show every tool: name, description, arguments."""
    with errors(as_json, debug):
        toolkit = load_toolkit(toolkit_file)
        if as_json:
            out.print_json(json.dumps([{"name": t.name, "description": t.description, "parameters": t.parameters,
                                        "timeout": t.timeout, "side_effects": t.side_effects,
                                        "sensitive": sorted(t.sensitive)} for t in toolkit]))
            return
        table = Table("name", "description", "arguments")
        for t in toolkit:
            args = ", ".join(f"{n}: {f.annotation.__name__ if hasattr(f.annotation, '__name__') else f.annotation}"
                             for n, f in t.args_model.model_fields.items())
            table.add_row(t.name, t.description, args)
        out.print(table)


@tools_app.command("call")
def tools_call(
    name: Annotated[str, typer.Argument(help="Tool name (see: foreplan tools list).")],
    args: Annotated[str, typer.Option("--args", help="Arguments as a JSON object.")] = "{}",
    toolkit_file: ToolkitOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Call one tool and print its evidence as JSON; exit 1 when it fails."""
    from foreplan.errors import ConfigError
    from foreplan.execute.dag import call_tool

    with errors(True, debug):
        toolkit = load_toolkit(toolkit_file)
        tool = toolkit.get(name)
        if tool is None:
            hint = toolkit.suggest(name)
            raise ConfigError(f"no tool named {name!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                              + f"; the tools are: {', '.join(toolkit.names)}")
        try:
            arguments = json.loads(args)
        except ValueError as exc:
            raise ConfigError(f"--args is not JSON: {exc}") from exc
        if not isinstance(arguments, dict):
            raise ConfigError('--args must be a JSON object, e.g. --args \'{"expression": "1+2"}\'')
        evidence = call_tool(tool, arguments)
        out.print_json(json.dumps({"tool": name} | evidence.to_dict(), ensure_ascii=False))
        if not evidence.ok:
            raise typer.Exit(1)


@corpus_app.command("build")
def corpus_build(
    folder: Annotated[Path | None, typer.Option("--folder", help="Index the .txt/.md files under this folder.")] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="Index a JSONL file of {title, text} objects.")] = None,
    hotpotqa: Annotated[Path | None, typer.Option("--hotpotqa", help="Index the HotpotQA sample's paragraphs.")] = None,
    sotu: Annotated[Path | None, typer.Option("--sotu", help="Index the State of the Union text.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Index file (default: the user cache).")] = None,
    debug: DebugOpt = False,
) -> None:
    """Build the SQLite FTS5 index that search_wiki's offline provider reads."""
    import itertools

    from foreplan.errors import ConfigError
    from foreplan.tools import corpus
    from foreplan.tools.wiki import default_index_path

    with errors(False, debug):
        sources = [
            corpus.documents_from_folder(folder) if folder else (),
            corpus.documents_from_jsonl(jsonl) if jsonl else (),
            corpus.documents_from_hotpotqa(hotpotqa) if hotpotqa else (),
            corpus.documents_from_sotu(sotu) if sotu else (),
        ]
        if not any((folder, jsonl, hotpotqa, sotu)):
            raise ConfigError("say what to index: --folder, --jsonl, --hotpotqa or --sotu")
        target = output or default_index_path()
        with Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), console=out, transient=True) as bar:
            task = bar.add_task("index", total=None)
            count = corpus.build_index(itertools.chain(*sources), target,
                                       progress=lambda done, total: bar.update(task, completed=done, total=total))
        out.print(f"indexed {count} documents into {target}", highlight=False)


@tools_app.command("standins")
def tools_standins(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free one).")] = 8765,
    debug: DebugOpt = False,
) -> None:
    """Run local replicas of SearXNG, Brave Search and Bilibili search (not the real services)."""
    from foreplan.tools.standins import main

    with errors(False, debug):
        main(["--port", str(port)])
