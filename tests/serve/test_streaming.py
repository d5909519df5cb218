"""Streaming over SSE on ScriptedLLM: pieces as they are generated, tool-call deltas that
reassemble to the non-streamed calls, the usage chunk, and what a client leaving does."""

from __future__ import annotations

import dataclasses

import json
import logging
import time

import httpx
import pytest

from foreplan import ScriptedLLM
from tests.serve.conftest import sse_data

REPLY = "The capital of France is Paris, and it is lovely in spring."
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris, France"}}\n</tool_call>'


def _ask(**fields):
    return {"model": "planner", "messages": [{"role": "user", "content": "Tell me."}]} | fields


def _deltas(events):
    return [e["choices"][0]["delta"] for e in events if isinstance(e, dict) and e.get("choices")]


def _join_tool_calls(deltas):
    """Reassemble tool-call deltas the way OpenAI's clients do (by index)."""
    calls: dict[int, dict] = {}
    for delta in deltas:
        for part in delta.get("tool_calls") or ():
            call = calls.setdefault(part["index"], {"id": None, "type": None, "function": {"name": "", "arguments": ""}})
            call["id"] = part.get("id") or call["id"]
            call["type"] = part.get("type") or call["type"]
            call["function"]["name"] += part.get("function", {}).get("name") or ""
            call["function"]["arguments"] += part.get("function", {}).get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


def test_pieces_join_up_to_the_non_streamed_text(serve):
    client = serve({"planner": ScriptedLLM([REPLY, REPLY])})
    plain = client.post("/v1/chat/completions", json=_ask()).json()
    events = sse_data(client.post("/v1/chat/completions", json=_ask(
        stream=True, stream_options={"include_usage": True})).text)
    contents = [d["content"] for d in _deltas(events) if d.get("content")]
    assert len(contents) > 5 and "".join(contents) == plain["choices"][0]["message"]["content"] == REPLY
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["usage"] == plain["usage"] and events[-1] == "[DONE]"


@pytest.mark.parametrize("fields", [
    {"tool_choice": "auto"},
    {"tool_choice": "required"},
    {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
])
def test_tool_call_deltas_reassemble_to_the_non_streamed_calls(serve, fields):
    reply = CALL if fields["tool_choice"] == "auto" else '{"name": "get_weather", "arguments": {"city": "Paris, France"}}'
    client = serve({"planner": ScriptedLLM([reply, reply])})
    plain = client.post("/v1/chat/completions", json=_ask(tools=[WEATHER], **fields)).json()["choices"][0]
    events = sse_data(client.post("/v1/chat/completions", json=_ask(tools=[WEATHER], stream=True, **fields)).text)
    streamed = _join_tool_calls(_deltas(events))
    expected = plain["message"]["tool_calls"]
    assert [(c["type"], c["function"]) for c in streamed] == [(c["type"], c["function"]) for c in expected]
    assert streamed[0]["id"].startswith("call_")
    assert not any(d.get("content") for d in _deltas(events))  # the call's text is no content
    assert events[-2]["choices"][0]["finish_reason"] == plain["finish_reason"] == "tool_calls"


def test_auto_streams_the_text_before_a_call_and_never_the_tag(serve):
    reply = "Let me check the weather.\n" + CALL
    client = serve({"planner": ScriptedLLM([reply, reply])})
    plain = client.post("/v1/chat/completions", json=_ask(tools=[WEATHER])).json()["choices"][0]["message"]
    deltas = _deltas(sse_data(client.post("/v1/chat/completions", json=_ask(tools=[WEATHER], stream=True)).text))
    content = "".join(d.get("content") or "" for d in deltas)
    assert content == plain["content"] == "Let me check the weather."
    assert [c["function"] for c in _join_tool_calls(deltas)] == [c["function"] for c in plain["tool_calls"]]


def test_auto_without_a_call_streams_everything(serve):
    client = serve({"planner": ScriptedLLM(["It is sunny <tool in Paris."])})
    deltas = _deltas(sse_data(client.post("/v1/chat/completions", json=_ask(tools=[WEATHER], stream=True)).text))
    assert "".join(d.get("content") or "" for d in deltas) == "It is sunny <tool in Paris."


def test_the_first_piece_arrives_while_the_rest_is_generated(live):
    base = live({"planner": ScriptedLLM(["one two three four five six"], piece_delay_s=0.1)})
    arrivals = []
    started = time.monotonic()
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=_ask(stream=True), timeout=10) as r:
        for line in r.iter_lines():
            if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 6
    assert arrivals[-1] - arrivals[0] > 0.3  # six pieces 0.1 s apart, sent as each is made


class _CountingLLM(ScriptedLLM):
    """Counts the pieces it streams, so a test can see where a generation stopped."""

    pieces = 0

    def generate(self, messages, options):  # noqa: ANN001, ANN201 - the LLM protocol's
        if options.on_text is not None:
            given = options.on_text

            def counted(text: str) -> None:
                self.pieces += 1
                given(text)

            options = dataclasses.replace(options, on_text=counted)
        return super().generate(messages, options)


def test_a_client_that_leaves_stops_the_generation_and_frees_its_place(live, caplog):
    caplog.set_level(logging.INFO, logger="foreplan.serve")
    llm = _CountingLLM([" ".join(["word"] * 200), "next"], piece_delay_s=0.02)
    base = live({"planner": llm}, concurrency=1, queue_size=0)
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=_ask(stream=True), timeout=10) as r:
        for line in r.iter_lines():
            if '"word"' in line:
                break  # leaving the block closes the connection mid-stream
    while httpx.get(f"{base}/health").json()["models"]["planner"]["queued"]:
        time.sleep(0.02)  # pytest-timeout ends a run whose place is never given back
    assert llm.pieces < 200  # stopped at the next pieces, not after all 200
    r = httpx.post(f"{base}/v1/chat/completions", json=_ask(), timeout=10)  # queue_size=0: 429 if still held
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "next"
    assert any("client disconnected" in rec.getMessage() for rec in caplog.records)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING or rec.exc_info]
