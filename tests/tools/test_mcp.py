"""MCP tools: a real server (the SDK's MCPServer, formerly FastMCP) started by the test.

The same small server runs over stdio and over streamable HTTP on 127.0.0.1; its tools
are listed with their schemas, planned with (scripted planner) and called through the
worker. Failures — an error result, a crash, a hang, a server that never starts — end as
a ToolError in the evidence or a ConfigError at load time, never as a hang.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp")

from foreplan import Agent, ScriptedLLM  # noqa: E402
from foreplan.errors import ConfigError, ToolError  # noqa: E402
from foreplan.tools.config import build_toolkit, load_toolkit_config  # noqa: E402
from foreplan.tools.mcp import MCPServerSpec, load_mcp_tools  # noqa: E402
from foreplan.types import Status  # noqa: E402

SERVER = '''
import os, sys, time
from typing import TypedDict
from mcp.server.mcpserver import MCPServer

server = MCPServer("films")

class Film(TypedDict):
    title: str
    director: str
    year: int

@server.tool()
def director_of(title: str) -> Film:
    """Who directed a film, with its year."""
    return {"title": title, "director": "Christopher Nolan", "year": 2010}

@server.tool(name="films-by")
def films_by(director: str, limit: int = 3) -> str:
    """Films by a director, one per line."""
    return "\\n".join(["Memento", "Interstellar", "The Prestige"][:limit])

@server.tool()
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"no film called {reason}")

@server.tool()
def crash(reason: str) -> str:
    """Ends the server process."""
    os._exit(3)

@server.tool()
def sleep(seconds: float) -> str:
    """Answers after a while."""
    time.sleep(seconds)
    return "awake"

if __name__ == "__main__":
    if len(sys.argv) > 1:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
    else:
        print("films server ready", file=sys.stderr, flush=True)
        server.run()
'''


@pytest.fixture(scope="module")
def server_py(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "films_server.py"
    path.write_text(SERVER)
    return path


@pytest.fixture(scope="module")
def stdio_tools(server_py: Path) -> Iterator[dict]:
    tools = load_mcp_tools(MCPServerSpec("films", sys.executable, (str(server_py),), timeout_s=3))
    yield {t.name: t for t in tools}
    tools[0].close()


def test_tools_are_listed_with_their_schemas(stdio_tools: dict) -> None:
    assert set(stdio_tools) == {"films_director_of", "films_films_by", "films_fail", "films_crash", "films_sleep"}
    director = stdio_tools["films_director_of"]
    assert director.description == "Who directed a film, with its year."
    assert director.parameters["properties"]["title"]["type"] == "string"
    assert director.parameters["required"] == ["title"] and director.single_input == "title"
    films = stdio_tools["films_films_by"]
    assert films.parameters["properties"]["limit"]["default"] == 3 and films.single_input == "director"


def test_structured_content_is_the_value_and_text_is_text(stdio_tools: dict) -> None:
    assert stdio_tools["films_director_of"](title="Inception") == {
        "title": "Inception", "director": "Christopher Nolan", "year": 2010}  # fmt: skip
    assert stdio_tools["films_films_by"](director="Christopher Nolan", limit=2) == {"result": "Memento\nInterstellar"}


def test_error_result_is_a_tool_error(stdio_tools: dict) -> None:
    with pytest.raises(ToolError, match=r"Error executing tool fail.*MCP server 'films'"):
        stdio_tools["films_fail"](reason="Inceptionn")
    with pytest.raises(ToolError, match="do not fit its schema"):  # checked before the server sees it
        stdio_tools["films_sleep"](seconds="soon")


def test_planned_and_called_through_the_worker(stdio_tools: dict) -> None:
    from foreplan.tools import Toolkit

    plan = ("Plan: Find who directed Inception.\n#E1 = films_director_of[Inception]\n"
            "Plan: List the director's films.\n#E2 = films_films_by[#E1.director]\n")  # fmt: skip
    planner = ScriptedLLM([plan, "Christopher Nolan directed Memento."])
    toolkit = Toolkit([stdio_tools["films_director_of"], stdio_tools["films_films_by"]])
    result = Agent(planner, toolkit, caller=ScriptedLLM([])).run("What else did Inception's director make?")
    assert result.evidence["E1"].value["director"] == "Christopher Nolan"
    assert result.evidence["E2"].input == "Christopher Nolan" and "Memento" in result.evidence["E2"].value["result"]
    assert "films_director_of[input]: Who directed a film" in planner.calls[0][0][0]["content"]


def test_timeout_becomes_a_tool_error_then_the_server_still_answers(stdio_tools: dict) -> None:
    with pytest.raises(ToolError, match="timed out|did not answer"):  # not "awake" after 30 s
        stdio_tools["films_sleep"](seconds=30)
    assert stdio_tools["films_director_of"](title="Memento")["director"] == "Christopher Nolan"


def test_crash_is_a_tool_error_and_the_next_call_restarts_the_server(server_py: Path) -> None:
    tools = {t.name: t for t in load_mcp_tools(MCPServerSpec("films", sys.executable, (str(server_py),)), prefix="")}
    with pytest.raises(ToolError, match=r"MCP server 'films'.*[Cc]onnection closed.*films server ready"):
        tools["crash"](reason="test")
    assert tools["director_of"](title="Tenet")["title"] == "Tenet"
    tools["crash"].close()


def test_crash_in_a_run_is_evidence_not_a_crash(server_py: Path) -> None:
    tools = load_mcp_tools(MCPServerSpec("films", sys.executable, (str(server_py),)))
    from foreplan.tools import Toolkit

    planner = ScriptedLLM(["Plan: crash it.\n#E1 = films_crash[now]\n", "It failed."])
    result = Agent(planner, Toolkit(tools), caller=ScriptedLLM([]), max_replans=0).run("Crash the server")
    assert result.evidence["E1"].status is Status.ERROR and "films_crash failed" in result.evidence["E1"].error
    assert result.answer == "It failed."
    tools[0].close()


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (MCPServerSpec("nope", "/nonexistent/mcp-server"), r"MCP server 'nope' could not start.*FileNotFoundError"),
        (MCPServerSpec("quits", sys.executable, ("-c", "import sys; print('bad flag', file=sys.stderr)")),
         r"MCP server 'quits'.*bad flag"),
        (MCPServerSpec("mute", sys.executable, ("-c", "import time; time.sleep(60)"), startup_timeout_s=1),
         r"MCP server 'mute'.*(did not start within 1 s|did not answer)"),
    ],
)  # fmt: skip
def test_server_that_cannot_start_is_a_config_error(spec: MCPServerSpec, match: str) -> None:
    with pytest.raises(ConfigError, match=match + r".*\[\[mcp\]\] entry"):
        load_mcp_tools(spec)


def test_toolkit_file_adds_servers_and_refuses_clashes(tmp_path: Path, server_py: Path) -> None:
    entry = f'[[mcp]]\nname = "films"\ncommand = "{sys.executable}"\nargs = ["{server_py}"]\n'
    (tmp_path / "ok.toml").write_text('tools = ["calculator"]\n' + entry + 'tools = ["director_of"]\n')
    toolkit = build_toolkit(load_toolkit_config(tmp_path / "ok.toml"))
    assert toolkit.names == ["calculator", "films_director_of"]
    toolkit.get("films_director_of").close()
    (tmp_path / "clash.toml").write_text('tools = ["calculator"]\n' + entry.replace('name = "films"', 'name = "x"')
                                         + 'prefix = ""\n' + 'tools = ["crash"]\n'
                                         + entry.replace('name = "films"', 'name = "y"') + 'prefix = ""\n')  # fmt: skip
    with pytest.raises(ConfigError, match=r"clash: 'crash' from mcp server 'y'.*set prefix"):
        build_toolkit(load_toolkit_config(tmp_path / "clash.toml"))
    (tmp_path / "both.toml").write_text(entry + 'url = "http://127.0.0.1:1/mcp"\n')
    with pytest.raises(ConfigError, match="either command .* or url"):
        load_toolkit_config(tmp_path / "both.toml")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.server
def test_streamable_http_server(server_py: Path, tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(server_py), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while _refused(port):
            assert proc.poll() is None and time.monotonic() < deadline, "the HTTP MCP server did not start"
            time.sleep(0.1)
        (tmp_path / "http.toml").write_text(f'tools = []\n[[mcp]]\nname = "films"\nurl = "http://127.0.0.1:{port}/mcp"\n')
        toolkit = build_toolkit(load_toolkit_config(tmp_path / "http.toml"))
        assert toolkit.get("films_director_of")(title="Dunkirk")["title"] == "Dunkirk"
        with pytest.raises(ToolError, match="Error executing tool fail"):
            toolkit.get("films_fail")(reason="x")
        toolkit.get("films_fail").close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
