"""Tools from Model Context Protocol servers, through the official ``mcp`` SDK.

A toolkit file names servers; each server's tools join the toolkit as ordinary
:class:`~foreplan.tools.tool.Tool` objects with the server's JSON schema and description:

    [[mcp]]
    name = "fs"                       # prefix: its tools become fs_read_file, fs_list_dir...
    command = "python"                # stdio: the SDK starts the process
    args = ["-m", "my_server"]
    # url = "http://127.0.0.1:8000/mcp"   streamable HTTP instead of command

The SDK is async and the worker calls tools from threads, so each server gets one
session on its own event-loop thread, started on first use and closed at exit:

    worker thread ──run_coroutine_threadsafe──> loop thread: ClientSession ──stdio/HTTP──> server
       .result(timeout)  <───────────────────── CallToolResult

A result's text content becomes text; ``structuredContent`` becomes the value (so a
later step can say ``#E1.field``); ``isError`` becomes a :class:`ToolError`. A server
that cannot start is a :class:`ConfigError`; one that dies or stops answering turns the
call into a :class:`ToolError` with the end of its stderr, and the next call starts it again.
"""

from __future__ import annotations

import asyncio
import atexit
import re
import tempfile
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pydantic

from foreplan.errors import ConfigError, MissingExtraError, ToolError
from foreplan.tools.tool import Tool

try:
    import mcp
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client
except ImportError as _exc:  # pragma: no cover - depends on the installed extras
    raise MissingExtraError(_exc.name or "mcp", "mcp") from _exc

_NAME_SAFE = re.compile(r"[^A-Za-z0-9_]")
_JSON_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool,
                               "array": list, "object": dict}  # fmt: skip


@dataclass(frozen=True)
class MCPServerSpec:
    """How to reach one server: ``command`` (stdio) or ``url`` (streamable HTTP)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    timeout_s: float = 30.0
    """Seconds one tool call may take."""
    startup_timeout_s: float = 30.0
    """Seconds to start the server and list its tools."""

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ConfigError(f"MCP server {self.name!r}: give either command (stdio) or url (streamable HTTP)")


class MCPConnection:
    """One live session with one server, on a daemon thread running its own event loop."""

    def __init__(self, spec: MCPServerSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: mcp.ClientSession | None = None
        self._stop: asyncio.Event | None = None
        self._done: threading.Event = threading.Event()
        self._failure: BaseException | None = None
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        atexit.register(self.close)

    # --- lifecycle -----------------------------------------------------------------
    def _ensure_started(self) -> mcp.ClientSession:
        with self._lock:
            if self._session is not None and not self._done.is_set():
                return self._session
            self._shutdown()  # a session that ended (crash, closed pipe) is started again
            self._done, ready, self._failure = threading.Event(), threading.Event(), None
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=self._run_loop, args=(loop, ready), daemon=True,
                                      name=f"foreplan-mcp-{self.spec.name}")
            thread.start()
            if not ready.wait(self.spec.startup_timeout_s):
                self._shutdown(loop)
                raise ToolError(f"MCP server {self.spec.name!r} did not start within "
                                f"{self.spec.startup_timeout_s:g} s{self._stderr_tail()}")
            if self._session is None:
                raise ToolError(f"MCP server {self.spec.name!r} could not start: "
                                f"{_describe(self._failure)}{self._stderr_tail()}")
            return self._session

    def _run_loop(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready))
        except BaseException as exc:  # the transport failed: remembered for the caller's message
            self._failure = exc
        finally:
            self._session = None
            self._done.set()
            ready.set()
            loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        # the SDK's context managers must be entered and left in one task: this one
        self._stop = asyncio.Event()
        async with self._transport() as streams, mcp.ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            self._session = session
            ready.set()
            await self._stop.wait()

    def _transport(self) -> Any:
        spec = self.spec
        if spec.url is not None:
            return streamable_http_client(spec.url)
        params = StdioServerParameters(command=spec.command, args=list(spec.args), env=spec.env or None, cwd=spec.cwd)
        return stdio_client(params, errlog=self._stderr)

    def _shutdown(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        loop = loop or self._loop
        if loop is not None and not loop.is_closed() and self._stop is not None:
            try:
                loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed in between
                pass
            self._done.wait(10)
        self._session, self._loop = None, None

    def close(self) -> None:
        """End the session and the server process (also run at interpreter exit)."""
        with self._lock:
            self._shutdown()

    # --- requests ------------------------------------------------------------------
    def _request(self, make: Any, timeout: float) -> Any:
        session = self._ensure_started()
        loop = self._loop
        if loop is None:
            raise ToolError(f"MCP server {self.spec.name!r} stopped{self._stderr_tail()}")
        future = asyncio.run_coroutine_threadsafe(make(session), loop)
        try:
            return future.result(timeout + 5)  # the SDK's own read timeout fires first
        except FutureTimeout as exc:
            future.cancel()
            raise ToolError(f"MCP server {self.spec.name!r} did not answer within {timeout:g} s") from exc
        except mcp.MCPError as exc:
            if "closed" in str(exc).lower():  # the server died: the next call starts it again
                self.close()
            raise ToolError(f"MCP server {self.spec.name!r}: {exc}{self._stderr_tail()}") from exc
        except (OSError, RuntimeError, asyncio.CancelledError) as exc:  # the pipe or the loop went away
            raise ToolError(f"MCP server {self.spec.name!r} failed: {_describe(exc)}{self._stderr_tail()}") from exc

    def list_tools(self) -> list[Any]:
        """Every tool the server offers (all pages)."""

        async def fetch(session: mcp.ClientSession) -> list[Any]:
            tools, cursor = [], None
            while True:
                page = await session.list_tools(params=mcp.types.PaginatedRequestParams(cursor=cursor))
                tools.extend(page.tools)
                if not (cursor := page.next_cursor):
                    return tools

        return self._request(fetch, self.spec.startup_timeout_s)

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call one tool; text for text content, the structured value when there is one.

        Raises:
            ToolError: the tool reported an error, or the server failed, died or timed out.
        """
        timeout = self.spec.timeout_s
        result = self._request(lambda s: s.call_tool(name, arguments, read_timeout_seconds=timeout), timeout)
        text = "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")
        if result.is_error:
            raise ToolError(f"{text or 'the tool reported an error'} (MCP server {self.spec.name!r})")
        if result.structured_content is not None:
            return result.structured_content
        others = [c.type for c in result.content if getattr(c, "type", None) != "text"]
        return text + (f"\n[{', '.join(others)} content left out]" if others else "")

    def _stderr_tail(self, chars: int = 600) -> str:
        try:
            self._stderr.seek(0)
            tail = self._stderr.read()[-chars:].strip()
        except (OSError, ValueError):
            return ""
        return f". Its stderr ends with: {tail}" if tail else ""


def _describe(exc: BaseException | None) -> str:
    # anyio raises ExceptionGroups from task groups; the first leaf says what happened
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"


class _MCPArguments(pydantic.BaseModel):
    """Arguments checked coarsely here; the server checks them against its own schema."""

    model_config = pydantic.ConfigDict(extra="allow")
    input_schema: ClassVar[dict[str, Any]] = {}

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return cls.input_schema  # the server's schema, untouched, for the planner and `tools list`


def mcp_tool(connection: MCPConnection, remote: Any, name: str) -> Tool:
    """A foreplan :class:`Tool` that calls the server's tool ``remote`` (an ``mcp.types.Tool``)."""
    schema = dict(remote.input_schema or {"type": "object", "properties": {}})
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for pname, prop in schema.get("properties", {}).items():
        hint = _JSON_TYPES.get(prop.get("type"), Any) if isinstance(prop, dict) else Any
        default = ... if pname in required else prop.get("default") if isinstance(prop, dict) else None
        hint = hint if pname in required or default is not None else hint | None
        fields[pname] = (hint, pydantic.Field(default, description=prop.get("description") or prop.get("title", "")))
    model = pydantic.create_model(f"{name}_arguments", __base__=_MCPArguments, **fields)
    model.input_schema = schema
    call = RemoteCall(connection, remote.name, frozenset(required), frozenset(fields))
    description = " ".join((remote.description or remote.title or remote.name).split())
    return Tool(name, description, call, model, timeout=connection.spec.timeout_s + 10, resource=connection)


@dataclass(frozen=True)
class RemoteCall:
    """An MCP tool's function: call ``remote_name`` on the server over ``connection``.

    Optional arguments left at None are not sent, so the server applies its own defaults."""

    connection: MCPConnection
    remote_name: str
    required: frozenset[str]
    given: frozenset[str]

    def __call__(self, **arguments: Any) -> Any:
        sent = {k: v for k, v in arguments.items() if k in self.required or v is not None or k not in self.given}
        return self.connection.call(self.remote_name, sent)


def load_mcp_tools(spec: MCPServerSpec, prefix: str | None = None) -> list[Tool]:
    """Start the server, list its tools and wrap each one.

    Args:
        spec: how to reach the server.
        prefix: put before every tool name (``fs`` gives ``fs_read_file``); ``""`` for none.

    Raises:
        ConfigError: the server cannot be started or listed (with the end of its stderr).
    """
    connection = MCPConnection(spec)
    try:
        remote_tools = connection.list_tools()
    except ToolError as exc:
        connection.close()
        raise ConfigError(f"{exc}. Check the [[mcp]] entry {spec.name!r} in the toolkit file.") from exc
    prefix = spec.name if prefix is None else prefix
    # a plan names tools with letters, digits and _ only: read-file and fs.read become read_file, fs_read
    names = [_NAME_SAFE.sub("_", f"{prefix}_{t.name}" if prefix else t.name) for t in remote_tools]
    return [mcp_tool(connection, t, name) for t, name in zip(remote_tools, names, strict=True)]
