"""Fixtures for the server's tests: an app on ScriptedLLMs, driven by TestClient, or
served by uvicorn on 127.0.0.1 (TestClient collects a streamed body before returning
it, so timing and client disconnects need a real server)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from foreplan.llm.base import LLM
from foreplan.serve import ServeSettings, create_app


@pytest.fixture
def serve() -> Iterator[Callable[..., TestClient]]:
    """``serve({"planner": ScriptedLLM([...])}, api_keys=[...])`` → a started TestClient."""
    clients: list[TestClient] = []

    def make(llms: dict[str, LLM], **settings: Any) -> TestClient:
        settings.setdefault("models", {alias: getattr(llm, "name", alias) for alias, llm in llms.items()})
        client = TestClient(create_app(ServeSettings(**settings), llms=llms))
        client.__enter__()  # runs the lifespan, which puts the models on app.state
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def sse_data(text: str) -> list[Any]:
    """The ``data:`` payloads of an SSE body; ``[DONE]`` stays a string."""
    out = []
    for line in text.splitlines():
        if line.startswith("data: "):
            payload = line.removeprefix("data: ")
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


@pytest.fixture
def live() -> Iterator[Callable[..., str]]:
    """``live({"planner": ScriptedLLM([...])}, queue_size=0)`` → ``http://127.0.0.1:PORT``
    of a uvicorn server in a thread, stopped after the test."""
    import uvicorn

    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(llms: dict[str, LLM], toolkits: dict[str, Any] | None = None, **settings: Any) -> str:
        settings.setdefault("models", {alias: getattr(llm, "name", alias) for alias, llm in llms.items()})
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = create_app(ServeSettings(**settings), llms=llms, toolkits=toolkits)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("uvicorn did not start")
            time.sleep(0.01)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(10)
