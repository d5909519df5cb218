"""``search_wiki``: encyclopedia passages for the planner, offline or from Wikipedia.

Two providers answer the same tool, so a plan written against one runs on the other:

    offline  query ─> search_index(wiki.sqlite) ─> BM25 passages        (corpus.py)
    online   query ─> MediaWiki list=search ─> titles ─> prop=extracts ─> intros

Both return ``[{"title", "text", "source", "score"}]``; online results have the page URL
as ``source`` and ``score`` ``None`` (MediaWiki no longer reports scores). The online
provider speaks the MediaWiki Action API (https://www.mediawiki.org/wiki/API:Search and
API:Extracts) over httpx with a descriptive User-Agent, as Wikimedia's User-Agent policy
asks; ``http_base`` points it at a local stand-in in tests. httpx is imported only when
the online provider is used, so ``import foreplan`` stays light.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

from foreplan.errors import ConfigError, RetryableToolError, ToolError
from foreplan.llm.registry import cache_home
from foreplan.tools.corpus import search_index
from foreplan.tools.tool import Tool, tool

PROVIDERS = ("offline", "online")
USER_AGENT = "foreplan/0.1 (ReWOO planner; search_wiki tool; https://pypi.org/project/foreplan/)"
_MAX_K = 20  # exlimit: the extracts API returns at most 20 intros per request
_TEXT_CHARS = 1500
_LANGUAGE_RE = re.compile(r"^[a-z][a-z0-9-]{1,15}$")
_TAG_RE = re.compile(r"<[^>]+>")


def default_index_path() -> Path:
    """Where ``foreplan corpus build`` writes the offline index by default:
    ``$FOREPLAN_CACHE_DIR/corpus/wiki.sqlite``, or the same under the user cache dir."""
    return cache_home() / "corpus" / "wiki.sqlite"


def make_search_wiki(
    index_path: Path | None = None,
    *,
    provider: str = "offline",
    language: str = "en",
    k_default: int = 3,
    http_base: str | None = None,
    timeout: float = 10.0,
) -> Tool:
    """Build the ``search_wiki`` tool for one provider.

    Args:
        index_path: the offline index (default :func:`default_index_path`).
        provider: ``"offline"`` (local FTS5 index) or ``"online"`` (MediaWiki API).
        language: Wikipedia language code for the online provider (``en``, ``de``...).
        k_default: how many passages the tool returns when the model does not say.
        http_base: the online API endpoint; default ``https://{language}.wikipedia.org/w/api.php``.
        timeout: seconds each online HTTP request may take.

    Raises:
        ConfigError: an unknown provider or language code, or ``k_default`` out of range.
    """
    if provider not in PROVIDERS:
        raise ConfigError(f"Unknown search_wiki provider {provider!r}; choose one of {', '.join(PROVIDERS)}.")
    if not _LANGUAGE_RE.match(language):
        raise ConfigError(f"{language!r} is not a Wikipedia language code (like 'en', 'de' or 'zh-yue').")
    if not 1 <= k_default <= _MAX_K:
        raise ConfigError(f"k_default must be between 1 and {_MAX_K}, not {k_default}.")
    if provider == "offline":
        path = Path(index_path) if index_path is not None else default_index_path()

        def backend(query: str, k: int) -> list[dict[str, Any]]:
            return search_index(path, query, k)

    else:
        base = http_base or f"https://{language}.wikipedia.org/w/api.php"

        def backend(query: str, k: int) -> list[dict[str, Any]]:
            return search_mediawiki(base, query, k, timeout=timeout)

    def search_wiki(query: str, k: int = k_default) -> list[dict[str, Any]]:
        """Search encyclopedia articles and return the best matching passages.

        Args:
            query: keywords or a question, e.g. "Inception director".
            k: how many passages to return (1 to 20).

        Returns:
            A list of {title, text, source, score}, best match first.
        """
        if not 1 <= k <= _MAX_K:
            raise ToolError(f"k must be between 1 and {_MAX_K}, not {k}.")
        return backend(query, k)

    return tool(search_wiki, name="search_wiki", timeout=max(timeout * 2 + 1, 5.0))


def search_mediawiki(base: str, query: str, k: int, *, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Search a MediaWiki site and return the intro of each of the top ``k`` pages.

    Raises:
        RetryableToolError: a timeout, a network failure, HTTP 429 or a 5xx answer.
        ToolError: any other HTTP error, a reply that is not MediaWiki JSON, or an API error.
    """
    import httpx

    if not query.strip():
        raise ToolError("The query is empty; please try again with keywords.")
    with httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=timeout, follow_redirects=True) as client:
        found = _get(client, base, {"list": "search", "srsearch": query, "srlimit": k, "srprop": "snippet"})
        hits = _field(found, "query", "search")
        if not hits:
            return []
        titles = [str(h["title"]) for h in hits[:k] if isinstance(h, dict) and "title" in h]
        snippets = {str(h["title"]): _TAG_RE.sub("", str(h.get("snippet", ""))) for h in hits if isinstance(h, dict)}
        pages = _field(
            _get(client, base, {
                "prop": "extracts", "exintro": 1, "explaintext": 1, "exlimit": len(titles),
                "titles": "|".join(titles), "redirects": 1,
            }),  # fmt: skip
            "query",
            "pages",
        )
    # formatversion=2 gives a list of pages; older wikis may still answer with a dict
    page_list = pages.values() if isinstance(pages, dict) else pages
    extracts = {str(p.get("title")): str(p.get("extract") or "") for p in page_list if isinstance(p, dict)}
    results = []
    for title in titles:
        text = extracts.get(title) or snippets.get(title, "")
        results.append({
            "title": title,
            "text": text.strip()[:_TEXT_CHARS],
            "source": urljoin(base, "/wiki/" + quote(title.replace(" ", "_"))),
            "score": None,
        })  # fmt: skip
    return results


def _get(client: Any, base: str, params: dict[str, Any]) -> Any:
    import httpx

    params = {"action": "query", "format": "json", "formatversion": 2, **params}
    where = f"Wikipedia search ({base})"
    try:
        response = client.get(base, params=params)
    except httpx.TimeoutException as exc:
        raise RetryableToolError(f"{where} timed out; please try again or use another tool.") from exc
    except httpx.HTTPError as exc:
        raise RetryableToolError(f"{where} could not be reached ({exc}); please try again later.") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableToolError(
            f"{where} answered HTTP {response.status_code}; please try again later or use another tool."
        )
    if response.status_code >= 400:
        raise ToolError(f"{where} refused the request: HTTP {response.status_code}.")
    try:
        data = response.json()
    except ValueError as exc:
        raise ToolError(f"{where} answered with something that is not JSON; please try another tool.") from exc
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        raise ToolError(f"{where} reported an error: {err.get('code', '?')}: {err.get('info', '')}".strip())
    return data


def _field(data: Any, outer: str, inner: str) -> Any:
    """``data[outer][inner]``; a MediaWiki reply without ``outer`` is malformed."""
    section = data.get(outer) if isinstance(data, dict) else None
    value = section.get(inner, []) if isinstance(section, dict) else None
    if not isinstance(value, (list, dict)):
        raise ToolError(f"Wikipedia search answered without the expected '{outer}.{inner}' field; please try again.")
    return value
