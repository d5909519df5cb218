"""search_wiki against a real offline index and a real local MediaWiki stand-in.

The stand-in is an ``http.server`` on 127.0.0.1 answering like ``/w/api.php`` does
(formatversion=2 JSON), plus the failures a real wiki produces: 503, an HTML error page
where JSON was expected, an API ``error`` object, a slow answer.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from foreplan.errors import ConfigError, RetryableToolError, ToolError
from foreplan.tools.corpus import Document, build_index
from foreplan.tools.wiki import USER_AGENT, default_index_path, make_search_wiki

PAGES = {
    "Inception": "Inception is a 2010 science fiction action film written and directed by Christopher Nolan.",
    "Christopher Nolan": "Sir Christopher Edward Nolan (born 30 July 1970) is a British and American filmmaker.",
}


class FakeMediaWiki(BaseHTTPRequestHandler):
    """Answers ``action=query`` like MediaWiki; some queries trigger failures."""

    requests: list[tuple[dict[str, str], dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        self.requests.append((params, dict(self.headers)))
        query = params.get("srsearch", "")
        if query == "unavailable":
            return self._send(503, b"<html>Wikimedia Error: our servers are currently under maintenance</html>")
        if query == "garbage":
            return self._send(200, b"<html>not json</html>", "text/html")
        if query == "missing":
            return self._send(404, b"not found")
        if query == "slow":
            time.sleep(1.0)
        if query == "bad-param":
            return self._json({"error": {"code": "badvalue", "info": "Unrecognized value for parameter"}})
        if query == "shapeless":
            return self._json({"batchcomplete": True, "query": "nothing here"})
        if params.get("list") == "search":
            words = query.lower().split()
            hits = [
                {"ns": 0, "title": t, "pageid": i, "snippet": f'<span class="searchmatch">{t}</span> snippet'}
                for i, t in enumerate(PAGES)
                if any(w in PAGES[t].lower() for w in words)
            ]
            if query == "snippet-only":
                hits = [{"ns": 0, "title": "Obscure", "pageid": 9, "snippet": 'An <span class="x">obscure</span> page'}]
            hits = hits[: int(params.get("srlimit", 10))]
            info = {"totalhits": len(hits)}
            return self._json({"batchcomplete": True, "query": {"searchinfo": info, "search": hits}})
        titles = params.get("titles", "").split("|")
        pages = [{"pageid": i, "ns": 0, "title": t, "extract": PAGES[t]} for i, t in enumerate(titles) if t in PAGES]
        pages += [{"ns": 0, "title": t, "missing": True} for t in titles if t not in PAGES]
        return self._json({"batchcomplete": True, "query": {"pages": pages}})

    def _json(self, body: Any) -> None:
        self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str = "text/html") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (the timeout test)
            pass

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def wiki_server() -> Iterator[str]:
    FakeMediaWiki.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMediaWiki)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/w/api.php"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def index(tmp_path: Path) -> Path:
    path = tmp_path / "wiki.sqlite"
    build_index([Document(t, x, f"local:{t}") for t, x in PAGES.items()], path)
    return path


def test_offline_tool_searches_the_index(index: Path) -> None:
    search_wiki = make_search_wiki(index)
    assert search_wiki.name == "search_wiki"
    schema = search_wiki.parameters
    assert schema["required"] == ["query"] and schema["properties"]["k"]["default"] == 3
    assert search_wiki.single_input == "query"
    results = search_wiki(query="Who directed Inception?")
    assert results[0]["title"] == "Inception" and results[0]["source"] == "local:Inception"
    assert len(search_wiki(query="Christopher Nolan", k=1)) == 1


def test_offline_tool_without_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="foreplan corpus build"):
        make_search_wiki(tmp_path / "none.sqlite")(query="Inception")


def test_k_default_and_range(index: Path) -> None:
    search_wiki = make_search_wiki(index, k_default=1)
    assert len(search_wiki(query="Nolan film")) == 1
    with pytest.raises(ToolError, match="between 1 and 20"):
        search_wiki(query="Nolan", k=50)


def test_default_index_path_follows_the_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOREPLAN_CACHE_DIR", str(tmp_path))
    assert default_index_path() == tmp_path / "corpus" / "wiki.sqlite"
    monkeypatch.delenv("FOREPLAN_CACHE_DIR")
    assert default_index_path().parts[-2:] == ("corpus", "wiki.sqlite")


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"provider": "bing"}, "Unknown search_wiki provider"), ({"language": "English!"}, "not a Wikipedia language"),
     ({"k_default": 0}, "k_default must be")],
)  # fmt: skip
def test_bad_configuration_is_refused(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        make_search_wiki(**options)


@pytest.mark.server
def test_online_search_returns_intros(wiki_server: str) -> None:
    search_wiki = make_search_wiki(provider="online", http_base=wiki_server)
    results = search_wiki(query="Nolan", k=2)
    assert [r["title"] for r in results] == ["Inception", "Christopher Nolan"]
    assert results[1] == {
        "title": "Christopher Nolan",
        "text": PAGES["Christopher Nolan"],
        "source": wiki_server.removesuffix("/w/api.php") + "/wiki/Christopher_Nolan",
        "score": None,
    }
    (search, headers), (extracts, _) = FakeMediaWiki.requests
    assert search["list"] == "search" and search["srsearch"] == "Nolan" and search["srlimit"] == "2"
    assert extracts["prop"] == "extracts" and "exintro" in extracts and "explaintext" in extracts
    assert extracts["titles"] == "Inception|Christopher Nolan"
    assert headers["User-Agent"] == USER_AGENT


@pytest.mark.server
def test_online_no_hits_and_snippet_fallback(wiki_server: str) -> None:
    search_wiki = make_search_wiki(provider="online", http_base=wiki_server)
    assert search_wiki(query="zzzzqqq") == []
    assert len(FakeMediaWiki.requests) == 1  # no extracts request for no titles
    [obscure] = search_wiki(query="snippet-only")
    assert obscure["text"] == "An obscure page"  # no extract: the search snippet, tags removed


@pytest.mark.server
@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        ("unavailable", RetryableToolError, "HTTP 503"),
        ("missing", ToolError, "refused the request: HTTP 404"),
        ("garbage", ToolError, "not JSON"),
        ("bad-param", ToolError, "badvalue: Unrecognized value"),
        ("shapeless", ToolError, "expected 'query.search' field"),
        ("slow", RetryableToolError, "timed out"),
    ],
)
def test_online_failures_become_tool_errors(wiki_server: str, query: str, error: type, message: str) -> None:
    search_wiki = make_search_wiki(provider="online", http_base=wiki_server, timeout=0.3)
    with pytest.raises(error, match=message) as caught:
        search_wiki(query=query)
    assert error is RetryableToolError or not isinstance(caught.value, RetryableToolError)


def test_online_unreachable_server_is_retryable() -> None:
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    search_wiki = make_search_wiki(provider="online", http_base=f"http://127.0.0.1:{port}/w/api.php", timeout=2)
    with pytest.raises(RetryableToolError, match="could not be reached"):
        search_wiki(query="Inception")
