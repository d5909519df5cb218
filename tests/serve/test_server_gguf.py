"""``foreplan serve`` for real: a subprocess on 127.0.0.1 serving the embedded Qwen 0.5B,
called by foreplan's own OpenAI backend and by the official ``openai`` client.

Outputs are kept to a few tokens (max_tokens ≤ 16): the test proves the wiring
(HTTP → server → chat template → llama.cpp → grammar → reply), not the model.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from servers import answers_http, free_port, stop, wait_until

from foreplan.llm.base import Constraint, GenerationOptions
from foreplan.llm.openai_http import OpenAIHttpLLM

pytestmark = [pytest.mark.gguf, pytest.mark.server]
_START_TIMEOUT_S = 180.0
_KEY = "test-key"
_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a running ``foreplan serve``."""
    from foreplan.llm.registry import get_model, pull

    pull(get_model("qwen2.5-coder-0.5b"))  # assemble outside the server's startup
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "foreplan.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--model", "planner=qwen2.5-coder-0.5b", "--api-key", _KEY, "--max-tokens-limit", "16"],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(answers_http(f"http://127.0.0.1:{port}/health"), proc, "foreplan serve", log, _START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc, timeout=20)


def test_foreplans_own_backend_chats_and_follows_a_schema(server):
    with OpenAIHttpLLM(server, api_key=_KEY) as llm:  # model discovered from GET /models
        assert llm.model == "planner"
        reply = llm.generate([{"role": "user", "content": "Say hello."}], GenerationOptions(max_tokens=8))
        assert reply.text.strip() and reply.usage.completion_tokens <= 8
        reply = llm.generate([{"role": "user", "content": "Is water wet? Answer in JSON."}],
                             GenerationOptions(max_tokens=16, constraint=Constraint(json_schema=_SCHEMA)))
        assert isinstance(json.loads(reply.text)["ok"], bool)
        assert llm.json_schema_form == "openai"


def test_the_embedded_name_is_served_too(server):
    with OpenAIHttpLLM(server, model="qwen2.5-coder-0.5b", api_key=_KEY) as llm:
        assert llm.generate([{"role": "user", "content": "Hi"}], GenerationOptions(max_tokens=4)).text


def test_the_openai_client(server):
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=server, api_key=_KEY, max_retries=0) as client:
        _chat_with(openai, client)
    with openai.OpenAI(base_url=server, api_key="wrong", max_retries=0) as wrong, \
            pytest.raises(openai.AuthenticationError) as info:
        wrong.models.list()
    assert info.value.code == "invalid_api_key"


def _chat_with(openai, client) -> None:
    chat = client.chat.completions.create(model="planner", max_tokens=8, temperature=0,
                                          messages=[{"role": "user", "content": "Say hello."}])
    assert chat.choices[0].message.content and chat.usage.completion_tokens <= 8

    chat = client.chat.completions.create(
        model="planner", max_tokens=16, temperature=0,
        messages=[{"role": "user", "content": "Is water wet? Answer in JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": _SCHEMA}})
    assert isinstance(json.loads(chat.choices[0].message.content)["ok"], bool)

    tools = [{"type": "function", "function": {"name": "get_time", "description": "The current time.",
                                               "parameters": {"type": "object", "properties": {}}}}]
    chat = client.chat.completions.create(model="planner", max_tokens=16, temperature=0, tools=tools,
                                          tool_choice="required",
                                          messages=[{"role": "user", "content": "What time is it?"}])
    assert chat.choices[0].finish_reason == "tool_calls"
    assert chat.choices[0].message.tool_calls[0].function.name == "get_time"

    # tool_choice auto: the 0.5B writes its call as bare JSON, without <tool_call> tags.
    weather = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
                                                 "parameters": {"type": "object", "required": ["city"],
                                                                "properties": {"city": {"type": "string"}}}}}]
    chat = client.chat.completions.create(model="planner", max_tokens=16, temperature=0, tools=weather,
                                          messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    assert chat.choices[0].finish_reason == "tool_calls" and chat.choices[0].message.content is None
    (call,) = chat.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}

    chunks = list(client.chat.completions.create(model="planner", max_tokens=4, temperature=0, stream=True,
                                                 messages=[{"role": "user", "content": "Hi"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")

    with pytest.raises(openai.NotFoundError, match="'nope' does not exist") as info:
        client.chat.completions.create(model="nope", max_tokens=4, messages=[{"role": "user", "content": "Hi"}])
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        client.chat.completions.create(model="planner", max_tokens=17, messages=[{"role": "user", "content": "Hi"}])


def test_the_openai_client_gets_tokens_as_they_are_generated(server):
    openai = pytest.importorskip("openai")
    ask = {"model": "planner", "max_tokens": 16, "temperature": 0,
           "messages": [{"role": "user", "content": "Write a short poem about the sea."}]}
    with openai.OpenAI(base_url=server, api_key=_KEY, max_retries=0) as client:
        plain = client.chat.completions.create(**ask)
        started, arrivals, pieces, usage = time.monotonic(), [], [], None
        for chunk in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **ask):
            usage = chunk.usage or usage
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.monotonic() - started)
                pieces.append(chunk.choices[0].delta.content)
    assert len(pieces) > 1 and "".join(pieces) == plain.choices[0].message.content
    assert usage.completion_tokens == plain.usage.completion_tokens
    # The prompt is cached by the first request, so the time goes into generating tokens.
    assert arrivals[0] < 0.5 * arrivals[-1], arrivals


def test_qwens_own_template_shows_the_tools():
    from foreplan.llm.resolve import resolve_model

    llm = resolve_model("qwen2.5-coder-0.5b")
    tool = {"type": "function", "function": {"name": "get_time", "description": "The current time.",
                                             "parameters": {"type": "object", "properties": {}}}}
    prompt = llm.render([{"role": "user", "content": "What's the time?"}], (tool,))
    assert '"name": "get_time"' in prompt and "<tool_call>" in prompt
    assert prompt.endswith("What's the time?<|im_end|>\n<|im_start|>assistant\n")
    assert "get_time" not in llm.render([{"role": "user", "content": "What's the time?"}])


def test_a_tool_round_trip_renders_as_qwen_was_trained():
    from foreplan.llm.resolve import resolve_model
    from foreplan.serve.schemas import ChatMessage
    from foreplan.serve.tool_calls import template_messages

    history = [ChatMessage.model_validate(m) for m in (
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "20 C"})]
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    prompt = resolve_model("qwen2.5-coder-0.5b").render(template_messages(history), (tool,))
    assert prompt.endswith(
        "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
        "</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n20 C\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n")
