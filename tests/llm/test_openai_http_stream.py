"""The OpenAI HTTP backend streaming over SSE (``httpx.MockTransport`` playing the server)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from foreplan.errors import LLMError
from foreplan.llm.base import Constraint, GenerationOptions
from foreplan.llm.openai_http import OpenAIHttpLLM

USER = [{"role": "user", "content": "Count."}]


def sse_reply(pieces: list[str], usage: bool = True, finish: str = "stop") -> httpx.Response:
    def lines() -> Iterator[bytes]:
        yield b'data: {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}\n\n'
        for piece in pieces:
            yield f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': piece}}]})}\n\n".encode()
        yield f'data: {{"choices": [{{"index": 0, "delta": {{}}, "finish_reason": "{finish}"}}]}}\n\n'.encode()
        if usage:
            yield b'data: {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}}\n\n'
        yield b"data: [DONE]\n\n"

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=httpx.ByteStream(b"".join(lines())))


@pytest.fixture
def requests() -> list[dict]:
    return []


def _llm(requests: list[dict], reply: httpx.Response) -> OpenAIHttpLLM:
    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(json.loads(request.content))
        return reply

    return OpenAIHttpLLM("http://llm.test/v1", model="qwen", transport=httpx.MockTransport(handle))


def test_deltas_are_passed_on_and_usage_read(requests):
    pieces: list[str] = []
    with _llm(requests, sse_reply(["1,", " 2", ",", " 3"], finish="length")) as llm:
        out = llm.generate(USER, GenerationOptions(max_tokens=4, top_p=0.9, on_text=pieces.append))
    assert pieces == ["1,", " 2", ",", " 3"] and out.text == "1, 2, 3" and out.finish_reason == "length"
    assert out.usage.to_dict() == {"prompt_tokens": 9, "completion_tokens": 4, "cached_tokens": 0, "calls": 1,
                                   "seconds": 0.0}
    assert requests[0]["stream"] is True and requests[0]["stream_options"] == {"include_usage": True}
    assert requests[0]["top_p"] == 0.9 and "top_k" not in requests[0]


def test_a_server_that_leaks_a_stop_prefix_is_cut(requests):
    pieces: list[str] = []
    with _llm(requests, sse_reply(["Paris", "\nObs", "ervation: x"], usage=False)) as llm:
        out = llm.generate(USER, GenerationOptions(stop=("\nObservation:",), on_text=pieces.append))
    assert pieces == ["Paris"] and out.text == "Paris" and out.finish_reason == "stop"
    assert out.usage.completion_tokens == 0  # the server sent no usage


def test_an_http_error_while_streaming_is_an_llm_error(requests):
    reply = httpx.Response(400, json={"error": {"message": "max_tokens is too large"}})
    with _llm(requests, reply) as llm, pytest.raises(LLMError, match="HTTP 400: max_tokens is too large"):
        llm.generate(USER, GenerationOptions(on_text=lambda piece: None))


def test_an_exception_from_on_text_passes_through(requests):
    class Gone(Exception):
        pass

    def leave(piece: str) -> None:
        raise Gone

    with _llm(requests, sse_reply(["a", "b"])) as llm, pytest.raises(Gone):
        llm.generate(USER, GenerationOptions(on_text=leave))


def test_a_schema_request_is_not_streamed_but_its_text_is_passed_on(requests):
    reply = httpx.Response(200, json={"choices": [{"message": {"content": '{"ok": true}'}, "finish_reason": "stop"}]})
    pieces: list[str] = []
    with _llm(requests, reply) as llm:
        out = llm.generate(USER, GenerationOptions(constraint=Constraint(json_schema={"type": "object"}),
                                                   on_text=pieces.append, top_k=5))
    assert pieces == [out.text] == ['{"ok": true}'] and "stream" not in requests[0] and requests[0]["top_k"] == 5
