"""``search_web``: web search results for the planner, from one of three providers.

The seed called this tool ``search_bing``; Bing's search API was retired in 2025, so the
tool is ``search_web`` and ``search_bing`` stays as an alias name. Providers:

    searxng  GET {base}/search?q=..&format=json          results[].title/url/content
    brave    GET {base}/web/search?q=..&count=..          web.results[].title/url/description
             header X-Subscription-Token: $BRAVE_API_KEY
    offline  the local FTS5 index of ``foreplan corpus build``           (corpus.py)

Each answers ``{"query", "provider", "results": [{"title", "url", "snippet"}]}``, so a
later step can say ``#E1.results[0].url``. Highlight markup (Brave wraps matches in
``<strong>``) is removed and HTML entities are unescaped. Failures are typed:

    ToolError                   a refused key, an HTTP 4xx, a reply that is not the JSON we expect
    └── RetryableToolError      a timeout, a network failure, HTTP 429 or 5xx

The API key is read from the environment when the tool runs (never from the toolkit
file), so a missing key is a ToolError naming the variable to set. httpx is imported
only when an online provider runs, so ``import foreplan`` stays light.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

from foreplan.errors import ConfigError, RetryableToolError, ToolError
from foreplan.tools.tool import Tool, tool

PROVIDERS = ("searxng", "brave", "offline")
BRAVE_BASE = "https://api.search.brave.com/res/v1"
USER_AGENT = "foreplan/0.1 (ReWOO planner; search_web tool; https://pypi.org/project/foreplan/)"
MAX_K = 20  # Brave's `count` allows at most 20; SearXNG returns about 20 per page
_SNIPPET_CHARS = 500
_TAG_RE = re.compile(r"<[^>]+>")


def clean_text(text: object) -> str:
    """Plain text from a search API's snippet: tags removed, entities unescaped, spaces squeezed."""
    return " ".join(html.unescape(_TAG_RE.sub("", str(text or ""))).split())


def make_search_web(
    provider: str = "offline",
    *,
    base_url: str | None = None,
    api_key_env: str = "BRAVE_API_KEY",
    index_path: Path | None = None,
    k_default: int = 10,
    timeout: float = 10.0,
) -> Tool:
    """Build the ``search_web`` tool for one provider.

    Args:
        provider: ``"searxng"``, ``"brave"`` or ``"offline"``.
        base_url: the SearXNG instance (required for searxng, e.g. ``http://localhost:8888``)
            or the Brave API root (default ``https://api.search.brave.com/res/v1``).
        api_key_env: environment variable holding the Brave API key.
        index_path: the offline FTS5 index (default: the one ``foreplan corpus build`` writes).
        k_default: how many results the tool returns when the model does not say.
        timeout: seconds each HTTP request may take.

    Raises:
        ConfigError: an unknown provider, SearXNG without ``base_url``, ``k_default`` out of range.
    """
    if provider not in PROVIDERS:
        raise ConfigError(f"Unknown search_web provider {provider!r}; choose one of {', '.join(PROVIDERS)}.")
    if not 1 <= k_default <= MAX_K:
        raise ConfigError(f"k_default must be between 1 and {MAX_K}, not {k_default}.")
    if provider == "searxng":
        if not base_url:
            raise ConfigError("search_web provider 'searxng' needs base_url, the instance's address "
                              "(e.g. http://localhost:8888), with the JSON format enabled in its settings.yml.")
        searxng_base = base_url

        def backend(query: str, k: int) -> list[dict[str, str]]:
            return search_searxng(searxng_base, query, k, timeout=timeout)

    elif provider == "brave":
        brave_base = base_url or BRAVE_BASE

        def backend(query: str, k: int) -> list[dict[str, str]]:
            key = os.environ.get(api_key_env, "").strip()
            if not key:
                raise ToolError(f"search_web (Brave) needs an API key: set the environment variable {api_key_env} "
                                "(get a key at https://api-dashboard.search.brave.com), or use another tool.")
            return search_brave(brave_base, query, k, api_key=key, api_key_env=api_key_env, timeout=timeout)

    else:
        from foreplan.tools.corpus import search_index

        if index_path is None:
            from foreplan.tools.wiki import default_index_path

            index_path = default_index_path()
        offline_index = Path(index_path)

        def backend(query: str, k: int) -> list[dict[str, str]]:
            return [{"title": p["title"], "url": p["source"], "snippet": clean_text(p["text"])[:_SNIPPET_CHARS]}
                    for p in search_index(offline_index, query, k)]

    def search_web(query: str, k: int = k_default) -> dict[str, Any]:
        """Search the web and return the top results with their titles, addresses and snippets.

        Args:
            query: keywords, e.g. "Christopher Nolan filmography".
            k: how many results to return (1 to 20).

        Returns:
            {query, provider, results: [{title, url, snippet}]}, best match first.
        """
        if not query.strip():
            raise ToolError("The query is empty; please try again with keywords.")
        if not 1 <= k <= MAX_K:
            raise ToolError(f"k must be between 1 and {MAX_K}, not {k}.")
        return {"query": query, "provider": provider, "results": backend(query, k)[:k]}

    return tool(search_web, name="search_web", timeout=max(timeout * 2 + 1, 5.0), retries=1)


def search_searxng(base: str, query: str, k: int, *, timeout: float = 10.0) -> list[dict[str, str]]:
    """The top ``k`` results of a SearXNG instance's JSON API.

    Raises:
        RetryableToolError: a timeout, a network failure, HTTP 429 or a 5xx answer.
        ToolError: HTTP 403 (JSON output disabled), any other 4xx, or a reply without ``results``.
    """
    import httpx

    url = base.rstrip("/") + "/search"
    with httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=timeout, follow_redirects=True) as client:
        data = fetch_json(client, url, where=f"SearXNG ({base})",
                          params={"q": query, "format": "json", "pageno": 1},
                          refused={403: "it refuses format=json; enable `json` under search.formats in settings.yml"})
    hits = data.get("results") if isinstance(data, dict) else None
    if not isinstance(hits, list):
        raise ToolError(f"SearXNG ({base}) answered without a 'results' list; please try another tool.")
    return [_result(h.get("title"), h.get("url"), h.get("content")) for h in hits[:k] if isinstance(h, dict)]


def search_brave(base: str, query: str, k: int, *, api_key: str, api_key_env: str = "BRAVE_API_KEY",
                 timeout: float = 10.0) -> list[dict[str, str]]:
    """The top ``k`` results of the Brave Web Search API.

    Raises:
        RetryableToolError: a timeout, a network failure, HTTP 429 (rate limit) or a 5xx answer.
        ToolError: a refused key (401/403/422), another 4xx, or a reply that is not Brave's JSON.
    """
    import httpx

    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "X-Subscription-Token": api_key}
    url = base.rstrip("/") + "/web/search"
    with httpx.Client(headers=headers, timeout=timeout, follow_redirects=True) as client:
        data = fetch_json(client, url, where="Brave Search", params={"q": query, "count": k},
                          refused={code: f"check the key in ${api_key_env}" for code in (401, 403, 422)})
    web = data.get("web") if isinstance(data, dict) else None
    if web is None and isinstance(data, dict) and "query" in data:
        return []  # Brave leaves out `web` when nothing matched
    hits = web.get("results") if isinstance(web, dict) else None
    if not isinstance(hits, list):
        raise ToolError("Brave Search answered without 'web.results'; please try another tool.")
    return [_result(h.get("title"), h.get("url"), h.get("description")) for h in hits[:k] if isinstance(h, dict)]


def _result(title: object, url: object, snippet: object) -> dict[str, str]:
    return {"title": clean_text(title), "url": str(url or ""), "snippet": clean_text(snippet)[:_SNIPPET_CHARS]}


def fetch_json(client: Any, url: str, *, where: str, params: dict[str, Any] | None = None,
               refused: dict[int, str] | None = None, retryable: tuple[int, ...] = (429,)) -> Any:
    """GET ``url`` and decode its JSON; every failure becomes a typed tool error.

    Args:
        client: an ``httpx.Client`` (with the caller's headers, cookies and timeout).
        url: the address to get.
        where: the service's name for messages, e.g. ``"SearXNG (http://...)"``.
        params: query parameters.
        refused: advice to add for particular 4xx status codes.
        retryable: 4xx status codes worth trying again later (rate limits, blocks).

    Raises:
        RetryableToolError: a timeout, a network failure, a ``retryable`` status or a 5xx answer.
        ToolError: any other 4xx answer, or a body that is not JSON.
    """
    import httpx

    try:
        response = client.get(url, params=params)
    except httpx.TimeoutException as exc:
        raise RetryableToolError(f"{where} timed out; please try again or use another tool.") from exc
    except httpx.HTTPError as exc:
        raise RetryableToolError(f"{where} could not be reached ({exc}); please try again later.") from exc
    status = response.status_code
    if status == 429:
        wait = response.headers.get("Retry-After")
        raise RetryableToolError(f"{where} is rate limiting us (HTTP 429"
                                 + (f", retry after {wait} s" if wait else "")
                                 + "); please try again later or use another tool.")
    if status >= 500:
        raise RetryableToolError(f"{where} answered HTTP {status}; please try again later or use another tool.")
    if status >= 400:
        advice = (refused or {}).get(status)
        detail = _error_detail(response)
        error = RetryableToolError if status in retryable else ToolError
        raise error(f"{where} refused the request: HTTP {status}" + (f" ({detail})" if detail else "")
                    + (f"; {advice}." if advice else "."))
    try:
        return response.json()
    except ValueError as exc:
        raise ToolError(f"{where} answered with something that is not JSON; please try another tool.") from exc


def _error_detail(response: Any) -> str:
    """A short reason from an error body: Brave's ``error.code: detail``; never an HTML page."""
    try:
        err = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    if isinstance(err, dict):
        return ": ".join(str(err[f]) for f in ("code", "detail") if err.get(f))[:200]
    return str(err)[:200] if isinstance(err, str) else ""
