"""50 clients at once against a real uvicorn server on 127.0.0.1 (httpx.AsyncClient).

test_limits.py checks the queue through TestClient, whose requests are threads in the
test process; here the requests are real sockets racing into one event loop, so this
is what a burst of users sees: each request is either answered in full or refused at
once with 429 + Retry-After, never a 5xx, a dropped connection or a cut-off body, and
the queue drains back to empty.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from foreplan import ScriptedLLM
from tests.serve.conftest import sse_data

pytestmark = [pytest.mark.server, pytest.mark.timeout(60)]

CLIENTS = 50
WORK_S = 0.05
"""How long the scripted model takes per request."""
QUEUE = 4
CHAT = "/v1/chat/completions"
HI = {"model": "planner", "messages": [{"role": "user", "content": "hi"}]}


def _slow_llm(n: int, reply: str) -> ScriptedLLM:
    def slow(messages, options):
        time.sleep(WORK_S)
        return reply

    return ScriptedLLM([slow] * n, piece_delay_s=0.001)


async def _burst(base: str, requests: list[tuple[str, dict]]) -> list[httpx.Response]:
    """POST every ``(path, body)`` at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        return await asyncio.gather(*(client.post(path, json=body) for path, body in requests))


def _check_refusals(responses: list[httpx.Response]) -> None:
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    assert 429 in statuses and statuses.count(200) >= QUEUE + 1, statuses
    for r in responses:
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "2"
            assert r.json()["error"]["type"] == "rate_limit_error"


def test_fifty_clients_get_full_answers_or_429(live):
    reply = "The answer is forty-two. " * 8
    llm = _slow_llm(CLIENTS, reply)
    base = live({"planner": llm}, concurrency=1, queue_size=QUEUE, retry_after_s=2)
    responses = asyncio.run(_burst(base, [(CHAT, HI)] * CLIENTS))

    _check_refusals(responses)
    accepted = [r for r in responses if r.status_code == 200]
    assert len(accepted) == len(llm.calls)  # a 429 never reaches the model
    for r in accepted:
        body = r.json()
        assert body["choices"][0]["message"]["content"] == reply
        assert body["choices"][0]["finish_reason"] == "stop" and body["usage"]["completion_tokens"] == 32
    assert httpx.get(f"{base}/health").json()["models"]["planner"]["queued"] == 0


def test_streamed_and_plain_requests_share_the_queue(live):
    reply = "one two three four five"
    llm = _slow_llm(CLIENTS, reply)
    base = live({"planner": llm}, concurrency=1, queue_size=QUEUE, retry_after_s=2)
    requests = [(CHAT, HI | {"stream": i % 2 == 0}) for i in range(CLIENTS // 2)]
    requests += [("/v1/completions", {"model": "planner", "prompt": "hi", "stream": i % 2 == 0})
                 for i in range(CLIENTS - len(requests))]
    responses = asyncio.run(_burst(base, requests))

    _check_refusals(responses)
    for r in responses:
        if r.status_code != 200:
            continue
        if r.headers["content-type"].startswith("text/event-stream"):
            events = sse_data(r.text)
            assert events[-1] == "[DONE]", r.text  # the stream was not cut off
            chunks = events[:-1]
            text = "".join(c["choices"][0].get("delta", {}).get("content") or c["choices"][0].get("text", "")
                           for c in chunks if c["choices"])
            assert text == reply and chunks[-1]["choices"][0]["finish_reason"] == "stop"
        else:
            choice = r.json()["choices"][0]
            assert choice.get("text", choice.get("message", {}).get("content")) == reply
    assert len([r for r in responses if r.status_code == 200]) == len(llm.calls)
    assert httpx.get(f"{base}/health").json()["models"]["planner"]["queued"] == 0
