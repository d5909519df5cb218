"""Local replicas of SearXNG, the Brave Search API and Bilibili's search, on 127.0.0.1.

They exist so ``search_web`` and ``search_bilibili`` can be tested, and the seed's demo
run, with no network: the real httpx clients talk to a real HTTP server that answers in
the services' own shapes, including their handshakes and failures. They are replicas
serving a tiny bundled dataset, not the services; nothing here reaches the internet.

    GET /search?q=..&format=json               SearXNG: results[].title/url/content (403 without format=json)
    GET /res/v1/web/search?q=..&count=..       Brave: web.results[]; 422 without the right X-Subscription-Token
    GET /                                      Bilibili home page: Set-Cookie buvid3=...
    GET /x/web-interface/search/type?...       Bilibili video search: code -412 without buvid3

A query or keyword that is one of these words makes the replica fail the way the real
services do: ``rate-limit`` (HTTP 429), ``blocked`` (412, Bilibili's risk control),
``unavailable`` (503), ``garbage`` (HTML where JSON was expected), ``shapeless`` (JSON
without the expected fields), ``slow`` (answers after ``slow_seconds``). Each request's
path and headers are kept in ``server.seen``.

    python -m foreplan.tools.standins --port 8765    # then point a toolkit file at it
"""

from __future__ import annotations

import argparse
import html
import json
import re
import threading
import time
import uuid
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

#: The key the Brave replica accepts (a real key never goes in code or tests).
STANDIN_BRAVE_KEY = "standin-brave-key"

#: (title, url, content) — a few pages around the seed's demo question.
PAGES = [
    ("Inception - Wikipedia", "https://en.wikipedia.org/wiki/Inception",
     "Inception is a 2010 science fiction action film written and directed by Christopher Nolan."),
    ("Christopher Nolan - Wikipedia", "https://en.wikipedia.org/wiki/Christopher_Nolan",
     ("Christopher Nolan is a British and American filmmaker. His films include Memento, The Prestige, "
      "The Dark Knight, Inception, Interstellar, Dunkirk, Tenet and Oppenheimer.")),
    ("Interstellar (film) - Wikipedia", "https://en.wikipedia.org/wiki/Interstellar_(film)",
     "Interstellar is a 2014 epic science fiction film directed by Christopher Nolan."),
    ("The Dark Knight - Wikipedia", "https://en.wikipedia.org/wiki/The_Dark_Knight",
     "The Dark Knight is a 2008 superhero film directed by Christopher Nolan & co-written with Jonathan Nolan."),
    ("ReWOO: Decoupling Reasoning from Observations", "https://arxiv.org/abs/2305.18323",
     "ReWOO plans every tool call up front, then a worker gathers evidence and a solver answers."),
    ("SearXNG documentation", "https://docs.searxng.org/",
     "SearXNG is a free internet metasearch engine which aggregates results from search services."),
    ("Brave Search API", "https://brave.com/search/api/",
     "The Brave Search API gives web search results from Brave's independent index."),
    ("Bilibili - Wikipedia", "https://en.wikipedia.org/wiki/Bilibili",
     "Bilibili is a Chinese video sharing website themed around animation, comics and games."),
]

#: (bvid, title, author, duration as Bilibili writes it, play count, tags).
VIDEOS = [
    ("BV1LocalRep1", "【诺兰】Interstellar 星际穿越 官方预告 & 幕后花絮", "电影replica", "3:5", 1203344,
     "interstellar,星际穿越,nolan,诺兰"),
    ("BV1LocalRep2", "Inception 盗梦空间 结局解析：陀螺到底停没停？", "影评replica", "15:42", 884210,
     "inception,盗梦空间,nolan,诺兰"),
    ("BV1LocalRep3", "The Dark Knight 蝙蝠侠：黑暗骑士 小丑审讯名场面", "片段replica", "4:8", 2310007,
     "the dark knight,黑暗骑士,nolan,诺兰"),
    ("BV1LocalRep4", "Memento 记忆碎片 时间线全梳理 <倒叙与正叙>", "影评replica", "62:3", 310552,
     "memento,记忆碎片,nolan,诺兰"),
    ("BV1LocalRep5", "Oppenheimer 奥本海默 IMAX 拍摄幕后", "电影replica", "9:59", 654321,
     "oppenheimer,奥本海默,nolan,诺兰"),
    ("BV1LocalRep6", "Interstellar 星际穿越 配乐 Hans Zimmer 管风琴现场", "音乐replica", "7:30", "--",
     "interstellar,hans zimmer,星际穿越"),
    ("BV1LocalRep7", "The Prestige 致命魔术 三幕魔术结构拆解", "影评replica", "21:17", 402113,
     "the prestige,致命魔术,nolan,诺兰"),
    ("BV1LocalRep8", "Batman Begins 蝙蝠侠：侠影之谜 十分钟看完", "解说replica", "10:2", 512870,
     "batman begins,侠影之谜,nolan,诺兰"),
    ("BV1LocalRep9", "Dunkirk 敦刻尔克 / Tenet 信条 时间结构对比", "影评replica", "18:44", 298004,
     "dunkirk,敦刻尔克,tenet,信条,nolan,诺兰"),
]

FAULTS = ("rate-limit", "blocked", "unavailable", "garbage", "shapeless", "slow")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.lower().strip()) if w]


def searxng_results(query: str) -> list[dict[str, Any]]:
    """Pages that share a word with the query, best first (a word in the title counts twice)."""
    words = _words(query)
    scored = [(sum(2 * (w in t.lower()) + (w in c.lower()) for w in words), t, u, c) for t, u, c in PAGES]
    hits = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])
    return [{"title": t, "url": u, "content": c, "engine": "standin", "engines": ["standin"], "score": float(s),
             "category": "general", "template": "default.html", "parsed_url": list(urlsplit(u)), "positions": [1]}
            for s, t, u, c in hits]


def bilibili_results(keyword: str) -> list[dict[str, Any]]:
    """Videos whose title or tags hold a keyword word, most words first; titles escaped and
    highlighted as the API does."""
    words = _words(keyword)
    found = []
    for i, (bvid, title, author, duration, play, tags) in enumerate(VIDEOS):
        matched = sum(w in title.lower() or w in tags for w in words)
        if not matched:
            continue
        marked = html.escape(title, quote=False)
        for w in words:
            marked = re.sub(re.escape(html.escape(w, quote=False)),
                            lambda m: f'<em class="keyword">{m.group(0)}</em>', marked, flags=re.IGNORECASE)
        found.append({"type": "video", "id": 1000 + i, "aid": 1000 + i, "bvid": bvid, "author": author,
                      "mid": 42 + i, "title": marked, "arcurl": f"http://www.bilibili.com/video/av{1000 + i}",
                      "description": "本地复制品 (local replica)", "pic": "", "play": play, "tag": tags,
                      "duration": duration, "pubdate": 1_700_000_000 + i, "hit_columns": ["title"],
                      "rank_score": matched})
    return sorted(found, key=lambda v: -v["rank_score"])


class _Handler(BaseHTTPRequestHandler):
    server: StandinHTTPServer

    def do_GET(self) -> None:  # http.server's naming
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append((url.path, dict(self.headers)))
        routes = {"/search": self._searxng, "/res/v1/web/search": self._brave, "/": self._home,
                  "/x/web-interface/search/type": self._bilibili}
        route = routes.get(url.path)
        if route is None:
            return self._send(404, b"<html>404 Not Found</html>")
        query = params.get("q", params.get("keyword", ""))
        if query == "slow":
            time.sleep(self.server.slow_seconds)
        elif query in FAULTS and url.path != "/":
            return self._fault(query, brave=url.path.startswith("/res/"))
        route(params)

    def _searxng(self, params: dict[str, str]) -> None:
        if params.get("format") != "json":  # what an instance without `json` in search.formats does
            return self._send(403, b"<html><title>403 Forbidden</title></html>")
        hits = searxng_results(params.get("q", ""))
        self._json({"query": params.get("q", ""), "number_of_results": len(hits), "results": hits, "answers": [],
                    "corrections": [], "infoboxes": [], "suggestions": [], "unresponsive_engines": []})

    def _brave(self, params: dict[str, str]) -> None:
        if self.headers.get("X-Subscription-Token") != self.server.brave_api_key:
            return self._brave_error(422, "SUBSCRIPTION_TOKEN_INVALID", "The provided subscription token is invalid.")
        count = params.get("count", "20")
        if not count.isdigit() or not 1 <= int(count) <= 20:
            return self._brave_error(422, "VALIDATION", "Unable to validate request parameter(s)")
        hits = searxng_results(params.get("q", ""))[: int(count)]
        body: dict[str, Any] = {"type": "search", "query": {"original": params.get("q", ""), "more_results_available": False}}
        if hits:  # Brave leaves `web` out when nothing matched
            results = [{"type": "search_result", "title": h["title"], "url": h["url"], "language": "en",
                        "description": re.sub(r"(Nolan)", r"<strong>\1</strong>", html.escape(h["content"]))}
                       for h in hits]
            body["web"] = {"type": "search", "results": results, "family_friendly": True}
        self._json(body)

    def _home(self, params: dict[str, str]) -> None:
        self.send_response(200)
        if self.server.set_cookie:  # the real one also sets b_nut, buvid4...; buvid3 is what search checks
            self.send_header("Set-Cookie", f"buvid3={uuid.uuid4()}{int(time.time()) % 100000:05d}infoc; Path=/")
            self.send_header("Set-Cookie", f"b_nut={int(time.time())}; Path=/")
        self._finish(b"<!DOCTYPE html><html><title>local replica of bilibili</title></html>", "text/html")

    def _bilibili(self, params: dict[str, str]) -> None:
        cookies = SimpleCookie(self.headers.get("Cookie", ""))
        if "buvid3" not in cookies:  # since 2022-08 the API intercepts cookie-less searches
            return self._json({"code": -412, "message": "请求被拦截", "ttl": 1, "data": None})
        if params.get("search_type") != "video" or not params.get("keyword"):
            return self._json({"code": -400, "message": "请求错误", "ttl": 1})
        hits = bilibili_results(params["keyword"])
        self._json({"code": 0, "message": "0", "ttl": 1, "data": {
            "seid": "1", "page": 1, "pagesize": 20, "numResults": len(hits), "numPages": 1, "suggest_keyword": "",
            "rqt_type": "search", "result": hits}})

    def _fault(self, query: str, brave: bool) -> None:
        if query == "rate-limit":
            if brave:
                return self._brave_error(429, "RATE_LIMITED", "Request rate limit exceeded for plan.", {"Retry-After": "1"})
            return self._send(429, b"<html>Too Many Requests</html>", headers={"Retry-After": "1"})
        if query == "blocked":
            return self._send(412, b"<html>412 Precondition Failed</html>")
        if query == "unavailable":
            return self._send(503, b"<html>503 Service Unavailable</html>")
        if query == "shapeless":
            return self._json({"message": "a JSON reply of some other shape"})
        self._send(200, b"<html>not json</html>")

    def _brave_error(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        body = {"type": "ErrorResponse", "error": {"id": str(uuid.uuid4()), "status": status, "code": code,
                                                   "detail": detail, "meta": {}}, "time": int(time.time())}
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _json(self, body: Any) -> None:
        self._send(200, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str = "text/html",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self._finish(body, content_type)

    def _finish(self, body: bytes, content_type: str) -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up waiting (a timeout test)
            pass

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and demos read their own output
        pass


class StandinHTTPServer(ThreadingHTTPServer):
    """The replicas on one port; settings live here so the handler can read them."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, brave_api_key: str = STANDIN_BRAVE_KEY,
                 set_cookie: bool = True, slow_seconds: float = 2.0) -> None:
        super().__init__((host, port), _Handler)
        self.brave_api_key = brave_api_key
        self.set_cookie = set_cookie
        self.slow_seconds = slow_seconds
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Serve in a background thread; returns ``self``."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    """Run the replicas until Ctrl-C, printing a toolkit file that uses them."""
    parser = argparse.ArgumentParser(description="Local replicas of SearXNG, Brave Search and Bilibili search.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = StandinHTTPServer(args.host, args.port)
    print(f"local replicas (not the real services) on {server.url}\n\n# toolkit.toml\n"
          'tools = ["LLM", "search_web", "search_bilibili"]\n\n'
          f'[search_web]\nprovider = "searxng"\nbase_url = "{server.url}"\n\n'
          f'[search_bilibili]\nbase_url = "{server.url}"\n', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
