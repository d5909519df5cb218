"""``search_bilibili``: video search on Bilibili, the seed demo's second service.

Bilibili's public search API refuses clients that do not look like a browser session.
Since its August 2022 change it answers ``{"code": -412, "message": "请求被拦截"}`` to a
request without the ``buvid3`` cookie, which the home page sets on a first visit. So one
search is a two-request handshake on one cookie-keeping client:

    GET https://www.bilibili.com/                          ─> Set-Cookie: buvid3=...
    GET https://api.bilibili.com/x/web-interface/search/type
        ?search_type=video&keyword=..  (browser User-Agent, Referer, the cookie)
        ─> {"code": 0, "data": {"result": [{title, author, bvid, duration, play, ...}]}}

Titles come with matches wrapped in ``<em class="keyword">`` and HTML-escaped; both are
undone. Each result is ``{title, author, duration, url, play_count}`` with the URL built
from the ``bvid``. ``home_url`` and ``api_base`` point the tool at a local stand-in
(``standins.py``) in tests and in the offline demo.

    ToolError                   another API code, an HTTP 4xx, a reply that is not the expected JSON
    └── RetryableToolError      -412 (blocked), -799 (too frequent), HTTP 429/5xx, timeouts
"""

from __future__ import annotations

import html
import re
from typing import Any

from foreplan.errors import ConfigError, RetryableToolError, ToolError
from foreplan.tools.tool import Tool, tool
from foreplan.tools.web import fetch_json

HOME_URL = "https://www.bilibili.com/"
API_BASE = "https://api.bilibili.com"
SEARCH_PATH = "/x/web-interface/search/type"
# The API blocks non-browser agents; a current desktop Chrome string is what it expects.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
MAX_K = 20  # one page of search/type holds 20 videos
_TAG_RE = re.compile(r"<[^>]+>")
# Codes from SocialSisterYi/bilibili-API-collect (docs/misc/errcode.md, search/search_request.md).
_BLOCKED = {-412: "the request was intercepted (请求被拦截)", -799: "requests are too frequent"}


def make_search_bilibili(
    *,
    api_base: str | None = None,
    home_url: str | None = None,
    k_default: int = 10,
    timeout: float = 10.0,
) -> Tool:
    """Build the ``search_bilibili`` tool.

    Args:
        api_base: the API root (default ``https://api.bilibili.com``); a stand-in's address in tests.
        home_url: the page that sets the ``buvid3`` cookie (default ``https://www.bilibili.com/``,
            or ``api_base`` when only that is given, as a stand-in serves both).
        k_default: how many videos the tool returns when the model does not say.
        timeout: seconds each HTTP request may take.

    Raises:
        ConfigError: ``k_default`` out of range.
    """
    if not 1 <= k_default <= MAX_K:
        raise ConfigError(f"k_default must be between 1 and {MAX_K}, not {k_default}.")
    base = api_base or API_BASE
    home = home_url or (api_base.rstrip("/") + "/" if api_base else HOME_URL)

    def search_bilibili(keyword: str, k: int = k_default) -> list[dict[str, Any]]:
        """Search videos on Bilibili (哔哩哔哩) and return their titles, uploaders, lengths and links.

        Args:
            keyword: what to search for, e.g. "Interstellar" or "星际穿越".
            k: how many videos to return (1 to 20).

        Returns:
            A list of {title, author, duration, url, play_count}, most relevant first.
        """
        if not keyword.strip():
            raise ToolError("The keyword is empty; please try again with a title or topic.")
        if not 1 <= k <= MAX_K:
            raise ToolError(f"k must be between 1 and {MAX_K}, not {k}.")
        return search_videos(keyword, k, api_base=base, home_url=home, timeout=timeout)

    return tool(search_bilibili, name="search_bilibili", timeout=max(timeout * 2 + 1, 5.0), retries=1)


def search_videos(keyword: str, k: int, *, api_base: str = API_BASE, home_url: str = HOME_URL,
                  timeout: float = 10.0) -> list[dict[str, Any]]:
    """Visit the home page for the cookie, then search videos.

    Raises:
        RetryableToolError: the API blocked the search (-412, -799), a timeout, a network
            failure, HTTP 429 or 5xx.
        ToolError: another API error code, an HTTP 4xx, or a reply that is not the expected JSON.
    """
    import httpx

    headers = {
        "User-Agent": BROWSER_USER_AGENT,
        "Referer": home_url,
        "Accept": "application/json, text/plain, */*",
        "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    }
    where = f"Bilibili search ({api_base})"
    with httpx.Client(headers=headers, timeout=timeout, follow_redirects=True) as client:
        _visit_home(client, home_url)
        data = fetch_json(client, api_base.rstrip("/") + SEARCH_PATH, where=where,
                          params={"search_type": "video", "keyword": keyword, "page": 1},
                          refused={412: "Bilibili blocked this client; please try again later"}, retryable=(412,))
    if not isinstance(data, dict) or not isinstance(data.get("code"), int):
        raise ToolError(f"{where} answered without a 'code'; this is not the search API's JSON.")
    code = data["code"]
    if code in _BLOCKED:
        raise RetryableToolError(
            f"{where} refused: code {code}, {_BLOCKED[code]}. Bilibili does this without the buvid3 cookie "
            "or when searches come too fast; please try again later or use another tool."
        )
    if code != 0:
        raise ToolError(f"{where} reported error code {code}: {data.get('message', '')}".rstrip(": "))
    body = data.get("data")
    hits = body.get("result", []) if isinstance(body, dict) else None
    if hits is None:  # no `result` key at all means no match; a non-dict `data` is malformed
        raise ToolError(f"{where} answered code 0 without 'data'; please try again.")
    if not isinstance(hits, list):
        raise ToolError(f"{where} answered with a 'data.result' that is not a list; please try again.")
    return [_video(h) for h in hits if isinstance(h, dict) and h.get("bvid")][:k]


def _visit_home(client: Any, home_url: str) -> None:
    """GET the home page so the client holds ``buvid3``. An error status is left for the
    search to report (it answers -412 without the cookie); no connection at all is not."""
    import httpx

    try:
        client.get(home_url, headers={"Accept": "text/html"})
    except httpx.TimeoutException as exc:
        raise RetryableToolError(f"Bilibili ({home_url}) timed out; please try again or use another tool.") from exc
    except httpx.HTTPError as exc:
        raise RetryableToolError(f"Bilibili ({home_url}) could not be reached ({exc}); please try again later.") from exc


def _video(hit: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": " ".join(html.unescape(_TAG_RE.sub("", str(hit.get("title", "")))).split()),
        "author": str(hit.get("author", "")),
        "duration": format_duration(str(hit.get("duration", ""))),
        "url": f"https://www.bilibili.com/video/{hit['bvid']}",
        "play_count": _int(hit.get("play")),
    }


def format_duration(raw: str) -> str:
    """Bilibili writes ``"58:6"`` for 58 min 6 s; give ``"58:06"`` (``"1:02:03"`` for hours)."""
    parts = raw.split(":")
    if not all(p.isdigit() for p in parts):
        return raw
    seconds = 0
    for p in parts:
        seconds = seconds * 60 + int(p)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _int(value: Any) -> int | None:
    """``play`` is a number, or ``"--"`` for hidden counts."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
