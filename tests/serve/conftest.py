"""Fixtures for the server's tests: an app on ScriptedLLMs, driven by TestClient."""

from __future__ import annotations

import json
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
