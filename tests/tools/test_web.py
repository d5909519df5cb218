"""search_web against real local replicas of SearXNG and Brave (standins.py), the offline
index, and through ``foreplan tools call``; no mocks, real httpx on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from foreplan.errors import ConfigError, RetryableToolError, ToolError
from foreplan.tools.corpus import Document, build_index
from foreplan.tools.standins import PAGES, STANDIN_BRAVE_KEY, StandinHTTPServer
from foreplan.tools.web import USER_AGENT, fetch_json, make_search_web

KEY_ENV = "FOREPLAN_TEST_BRAVE_KEY"


@pytest.fixture
def standin() -> Iterator[StandinHTTPServer]:
    with StandinHTTPServer(slow_seconds=1.0) as server:
        yield server


@pytest.fixture
def brave(standin: StandinHTTPServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, STANDIN_BRAVE_KEY)
    return make_search_web("brave", base_url=standin.url + "/res/v1", api_key_env=KEY_ENV, timeout=0.3)


@pytest.mark.server
def test_searxng_results_are_typed_and_k_is_respected(standin: StandinHTTPServer) -> None:
    search_web = make_search_web("searxng", base_url=standin.url)
    assert search_web.name == "search_web" and search_web.single_input == "query"
    assert search_web.parameters["properties"]["k"]["default"] == 10
    answer = search_web(query="Nolan film")
    assert answer["query"] == "Nolan film" and answer["provider"] == "searxng"
    assert [r["title"] for r in answer["results"]] == [
        "Christopher Nolan - Wikipedia", "Interstellar (film) - Wikipedia", "Inception - Wikipedia",
        "The Dark Knight - Wikipedia"]  # fmt: skip
    assert answer["results"][2] == {"title": "Inception - Wikipedia", "url": "https://en.wikipedia.org/wiki/Inception",
                                    "snippet": PAGES[0][2]}
    assert len(search_web(query="Nolan film", k=2)["results"]) == 2
    path, headers = standin.seen[0]
    assert path == "/search" and headers["User-Agent"] == USER_AGENT


@pytest.mark.server
def test_brave_results_lose_their_markup(brave: Any, standin: StandinHTTPServer) -> None:
    [knight] = brave(query="superhero", k=5)["results"]
    # the replica, like Brave, sends "<strong>Nolan</strong>" and "&amp;"
    assert knight["snippet"] == "The Dark Knight is a 2008 superhero film directed by Christopher Nolan & co-written " \
                                "with Jonathan Nolan."
    assert len(brave(query="Nolan", k=3)["results"]) == 3
    assert brave(query="zzzqqq")["results"] == []  # Brave leaves out `web` when nothing matched
    assert standin.seen[0][1]["X-Subscription-Token"] == STANDIN_BRAVE_KEY


@pytest.mark.server
def test_brave_without_a_key_names_the_variable(standin: StandinHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    search_web = make_search_web("brave", base_url=standin.url + "/res/v1", api_key_env=KEY_ENV)
    with pytest.raises(ToolError, match=f"set the environment variable {KEY_ENV}"):
        search_web(query="Nolan")
    assert standin.seen == []  # nothing was sent without a key
    monkeypatch.setenv(KEY_ENV, "wrong")
    with pytest.raises(ToolError, match=rf"HTTP 422 \(SUBSCRIPTION_TOKEN_INVALID: .*\); check the key in \${KEY_ENV}"):
        search_web(query="Nolan")


@pytest.mark.server
@pytest.mark.parametrize("provider", ["searxng", "brave"])
@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        ("rate-limit", RetryableToolError, r"rate limiting us \(HTTP 429, retry after 1 s\)"),
        ("unavailable", RetryableToolError, "HTTP 503"),
        ("garbage", ToolError, "not JSON"),
        ("shapeless", ToolError, "answered without"),
        ("slow", RetryableToolError, "timed out"),
    ],
)
def test_failures_become_tool_errors(brave: Any, standin: StandinHTTPServer, provider: str, query: str,
                                     error: type, message: str) -> None:
    search_web = brave if provider == "brave" else make_search_web("searxng", base_url=standin.url, timeout=0.3)
    with pytest.raises(error, match=message) as caught:
        search_web(query=query)
    assert error is RetryableToolError or not isinstance(caught.value, RetryableToolError)


@pytest.mark.server
def test_searxng_without_json_output_says_how_to_enable_it(standin: StandinHTTPServer) -> None:
    with httpx.Client() as client, pytest.raises(ToolError, match="HTTP 403; enable json"):
        fetch_json(client, standin.url + "/search", where="SearXNG", params={"q": "Nolan"},
                   refused={403: "enable json"})


def test_unreachable_server_is_retryable() -> None:
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    search_web = make_search_web("searxng", base_url=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(RetryableToolError, match="could not be reached"):
        search_web(query="Nolan")


def test_offline_provider_reads_the_index(tmp_path: Path) -> None:
    index = tmp_path / "web.sqlite"
    build_index([Document(t, c, u) for t, u, c in PAGES], index)
    answer = make_search_web("offline", index_path=index)(query="Interstellar", k=1)
    assert answer["provider"] == "offline"
    assert answer["results"] == [{"title": "Interstellar (film) - Wikipedia",
                                  "url": "https://en.wikipedia.org/wiki/Interstellar_(film)", "snippet": PAGES[2][2]}]
    with pytest.raises(ToolError, match="foreplan corpus build"):
        make_search_web("offline", index_path=tmp_path / "none.sqlite")(query="Nolan")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"query": "  "}, "query is empty"), ({"query": "Nolan", "k": 21}, "between 1 and 20"),
     ({"query": "Nolan", "k": 0}, "between 1 and 20")],
)
def test_bad_arguments(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolError, match=message):
        make_search_web("searxng", base_url="http://127.0.0.1:9")(**arguments)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"provider": "bing"}, "Unknown search_web provider 'bing'; choose one of searxng, brave, offline"),
     ({"provider": "searxng"}, "needs base_url"), ({"k_default": 50}, "k_default must be")],
)
def test_bad_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_search_web(**options)


@pytest.mark.server
def test_tools_call_prints_json_evidence(standin: StandinHTTPServer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from foreplan.cli import app

    toolkit = tmp_path / "toolkit.toml"
    toolkit.write_text(f'tools = ["search_web"]\n[search_web]\nprovider = "searxng"\nbase_url = "{standin.url}"\n'
                       "timeout_s = 2\n")
    runner = CliRunner()
    ok = runner.invoke(app, ["tools", "call", "search_web", "--toolkit", str(toolkit),
                             "--args", '{"query": "Interstellar", "k": 1}'])
    assert ok.exit_code == 0, ok.output
    evidence = json.loads(ok.stdout)
    assert evidence["tool"] == "search_web"
    assert evidence["value"]["results"][0]["url"] == "https://en.wikipedia.org/wiki/Interstellar_(film)"
    failed = runner.invoke(app, ["tools", "call", "search_web", "--toolkit", str(toolkit),
                                 "--args", '{"query": "unavailable"}'])
    assert failed.exit_code == 1
    assert "HTTP 503" in failed.stdout
