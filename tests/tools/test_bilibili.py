"""search_bilibili against a real local replica of Bilibili's search (standins.py): the
buvid3 cookie handshake, -412 without it, highlight markup, and the failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from foreplan.errors import ConfigError, RetryableToolError, ToolError
from foreplan.tools.bilibili import (
    BROWSER_USER_AGENT,
    SEARCH_PATH,
    format_duration,
    make_search_bilibili,
)
from foreplan.tools.standins import StandinHTTPServer


@pytest.fixture
def standin() -> Iterator[StandinHTTPServer]:
    with StandinHTTPServer(slow_seconds=1.0) as server:
        yield server


@pytest.mark.server
def test_videos_come_back_clean(standin: StandinHTTPServer) -> None:
    search_bilibili = make_search_bilibili(api_base=standin.url)
    assert search_bilibili.single_input == "keyword"
    first, second = search_bilibili(keyword="Interstellar")
    # the replica, like the API, sends <em class="keyword">Interstellar</em> and &amp;
    assert first == {"title": "【诺兰】Interstellar 星际穿越 官方预告 & 幕后花絮", "author": "电影replica",
                     "duration": "3:05", "url": "https://www.bilibili.com/video/BV1LocalRep1", "play_count": 1203344}
    assert second["play_count"] is None  # a hidden count ("--")
    [memento] = search_bilibili(keyword="记忆碎片")
    assert memento["title"] == "Memento 记忆碎片 时间线全梳理 <倒叙与正叙>"  # escaped brackets, not tags
    assert memento["duration"] == "1:02:03"
    assert len(search_bilibili(keyword="诺兰", k=2)) == 2
    assert search_bilibili(keyword="zzzqqq") == []


@pytest.mark.server
def test_handshake_gets_the_cookie_then_searches_like_a_browser(standin: StandinHTTPServer) -> None:
    make_search_bilibili(api_base=standin.url)(keyword="Inception")
    (home, _), (search, headers) = standin.seen
    assert home == "/" and search == SEARCH_PATH
    assert "buvid3=" in headers["Cookie"]
    assert headers["User-Agent"] == BROWSER_USER_AGENT and headers["Referer"] == standin.url + "/"


@pytest.mark.server
def test_without_the_cookie_the_api_answers_412_and_the_tool_says_so(standin: StandinHTTPServer) -> None:
    # a bare client, no home-page visit: intercepted, as the real API does since 2022-08
    bare = httpx.get(standin.url + SEARCH_PATH, params={"search_type": "video", "keyword": "Inception"})
    assert bare.json() == {"code": -412, "message": "请求被拦截", "ttl": 1, "data": None}
    # the tool's handshake gets the cookie first, so the same search succeeds
    assert make_search_bilibili(api_base=standin.url)(keyword="Inception")[0]["title"].startswith("Inception")


@pytest.mark.server
def test_a_home_page_that_gives_no_cookie_means_a_retryable_block() -> None:
    blocked = pytest.raises(RetryableToolError, match="code -412, the request was intercepted.*buvid3")
    with StandinHTTPServer(set_cookie=False) as server, blocked:
        make_search_bilibili(api_base=server.url)(keyword="Inception")


@pytest.mark.server
@pytest.mark.parametrize(
    ("keyword", "error", "message"),
    [
        ("rate-limit", RetryableToolError, "HTTP 429"),
        ("blocked", RetryableToolError, "HTTP 412; Bilibili blocked this client"),
        ("unavailable", RetryableToolError, "HTTP 503"),
        ("garbage", ToolError, "not JSON"),
        ("shapeless", ToolError, "without a 'code'"),
        ("slow", RetryableToolError, "timed out"),
    ],
)
def test_failures_become_tool_errors(standin: StandinHTTPServer, keyword: str, error: type, message: str) -> None:
    search_bilibili = make_search_bilibili(api_base=standin.url, timeout=0.3)
    with pytest.raises(error, match=message) as caught:
        search_bilibili(keyword=keyword)
    assert error is RetryableToolError or not isinstance(caught.value, RetryableToolError)


def test_unreachable_bilibili_is_retryable() -> None:
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableToolError, match="could not be reached"):
        make_search_bilibili(api_base=f"http://127.0.0.1:{port}", timeout=2)(keyword="Inception")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"keyword": " "}, "keyword is empty"), ({"keyword": "x", "k": 21}, "between 1 and 20")],
)
def test_bad_arguments(arguments: dict, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        make_search_bilibili(api_base="http://127.0.0.1:9")(**arguments)


def test_k_default_out_of_range() -> None:
    with pytest.raises(ConfigError, match="k_default must be between 1 and 20"):
        make_search_bilibili(k_default=0)


@pytest.mark.parametrize(
    ("raw", "shown"), [("58:6", "58:06"), ("3:05", "3:05"), ("125:30", "2:05:30"), ("0:7", "0:07"), ("--", "--")]
)
def test_format_duration(raw: str, shown: str) -> None:
    assert format_duration(raw) == shown
