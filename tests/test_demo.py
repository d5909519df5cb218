"""``foreplan demo`` end to end: the seed's showcase on movies.db, a film index and the
local Bilibili replica; once with a scripted planner (deterministic), once with the real
default model (``gguf``), whose answer must be grounded in the evidence."""

from __future__ import annotations

import io
import os
import sqlite3

import pytest
from rich.console import Console
from typer.testing import CliRunner

from foreplan import Agent, ScriptedLLM
from foreplan.cli.demo import demo, run_demo
from foreplan.cli.common import load_toolkit
from foreplan.tools.sql import movies_db_path
from foreplan.types import Status

PLAN = """Plan: Find the director of Inception in the movies database.
#E1 = query_sql[SELECT Director FROM omdb WHERE Title = 'Inception']
Plan: List every film by that director.
#E2 = query_sql[SELECT Title, Year FROM omdb WHERE Director = '#E1.rows[0].Director' ORDER BY Year]
Plan: Search one of them on bilibili.
#E3 = search_bilibili[#E2.rows[4].Title]
"""


def nolan_films() -> set[str]:
    with sqlite3.connect(f"file:{movies_db_path()}?mode=ro", uri=True) as db:
        return {t for (t,) in db.execute("SELECT Title FROM omdb WHERE Director = 'Christopher Nolan'")}


def test_demo_runs_end_to_end_with_a_scripted_planner() -> None:
    console = Console(file=io.StringIO(), width=120)
    solver = ScriptedLLM([PLAN, "Christopher Nolan directed The Prestige; on bilibili: BV1LocalRep7."])
    result = run_demo(console, lambda path: Agent(solver, load_toolkit(path), caller=ScriptedLLM([])))
    assert all(e.status is Status.OK for e in result.evidence.values())
    assert result.evidence["E1"].value["rows"] == [{"Director": "Christopher Nolan"}]
    titles = [r["Title"] for r in result.evidence["E2"].value["rows"]]
    assert "Inception" in titles and set(titles) <= nolan_films()
    assert result.evidence["E3"].input == titles[4] == "The Prestige"
    videos = result.evidence["E3"].value
    assert videos[0]["url"] == "https://www.bilibili.com/video/BV1LocalRep7" and "致命魔术" in videos[0]["title"]
    shown = console.file.getvalue()
    assert "local replica" in shown and "not the real service" in shown and "Answer:" in shown


def test_print_toolkit_writes_a_usable_toolkit_file(tmp_path, monkeypatch) -> None:
    import typer

    monkeypatch.setenv("FOREPLAN_CACHE_DIR", str(tmp_path))
    app = typer.Typer()
    app.command()(demo)
    result = CliRunner().invoke(app, ["--print-toolkit", "--port", "8799"])
    assert result.exit_code == 0, result.output
    (tmp_path / "toolkit.toml").write_text(result.output)
    toolkit = load_toolkit(tmp_path / "toolkit.toml")
    assert toolkit.names == ["query_sql", "search_wiki", "search_bilibili"]
    assert 'base_url = "http://127.0.0.1:8799"' in result.output
    assert toolkit.get("search_wiki")(query="Inception director")[0]["title"] == "Inception - Wikipedia"


def _run_default_demo():
    from foreplan.cli.common import build_agent
    from foreplan.llm.registry import DEFAULT_CALLER, DEFAULT_PLANNER

    os.environ.setdefault("FOREPLAN_THREADS", "1")
    console = Console(file=io.StringIO(), width=120)
    return run_demo(console, lambda path: build_agent(DEFAULT_PLANNER, DEFAULT_CALLER, None, True, 6, toolkit_file=path),
                    live=False)


@pytest.fixture(scope="module")
def default_demo():
    return _run_default_demo()


@pytest.mark.gguf
def test_demo_with_the_default_model_answers_from_its_evidence(default_demo) -> None:
    """What the default 1.5B planner does reliably: it finds the director with a tool and the
    answer names him from that evidence (not from the model's memory alone)."""
    ok = [e for e in default_demo.evidence.values() if e.status is Status.OK]
    evidence = " ".join(str(e.value) for e in ok)
    assert "Nolan" in evidence, f"no tool found the director: {default_demo.to_dict()}"
    assert "Nolan" in default_demo.answer, default_demo.to_dict()


@pytest.mark.gguf
def test_demo_with_the_default_model_gives_a_fully_grounded_answer(default_demo) -> None:
    """The whole showcase with the default 1.5B planner: the director by SQL, his other
    films by SQL (the reference written as a SQL literal), one of them on the Bilibili
    replica, and an answer that names a film those rows hold. The planner sees the tables
    in query_sql's description and the demo toolkit's worked example (films of the same
    year as 'Heat')."""
    ok = [e for e in default_demo.evidence.values() if e.status is Status.OK]
    rows = " ".join(str(e.value) for e in ok if isinstance(e.value, dict) and "rows" in e.value)  # query_sql
    films = {t for t in nolan_films() - {"Inception"} if t in rows and t in default_demo.answer}
    assert films, f"the answer names no other Nolan film found by query_sql: {default_demo.to_dict()}"
    assert "BV1LocalRep" in str([e.value for e in ok]), f"no bilibili replica result: {default_demo.to_dict()}"
