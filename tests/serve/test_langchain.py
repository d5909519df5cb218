"""LangChain's ``ChatOpenAI`` pointed at ``foreplan serve``: the client most agent code
uses, with its own request shapes (``bind_tools`` sends ``tools`` + ``tool_choice``,
``ToolMessage`` sends ``role: tool`` with ``tool_call_id``, and it reads ``tool_calls``
back with ``arguments`` as a JSON string). The scripted test pins the whole round trip;
the GGUF test proves the same wiring on the embedded Qwen 0.5B.
"""

from __future__ import annotations

import json

import pytest

from foreplan import ScriptedLLM

langchain_openai = pytest.importorskip("langchain_openai")
messages_mod = pytest.importorskip("langchain_core.messages")

pytestmark = [
    pytest.mark.server,
]

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def _chat_model(base_url: str, **kwargs):
    return langchain_openai.ChatOpenAI(base_url=f"{base_url}/v1", api_key="unused", model="planner",
                                       max_retries=0, timeout=60, **kwargs)


def test_a_tool_calling_round_trip(live):
    llm = ScriptedLLM(['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
                       "It is 20 C and sunny in Paris."])
    chat = _chat_model(live({"planner": llm}), temperature=0).bind_tools([WEATHER])
    history = [messages_mod.HumanMessage("What is the weather in Paris?")]

    first = chat.invoke(history)
    assert isinstance(first, messages_mod.AIMessage)
    (call,) = first.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris"}
    assert call["id"].startswith("call_")
    assert first.response_metadata["finish_reason"] == "tool_calls"

    history += [first, messages_mod.ToolMessage("20 C, sunny", tool_call_id=call["id"])]
    final = chat.invoke(history)
    assert final.content == "It is 20 C and sunny in Paris." and final.tool_calls == []

    # What the server handed the model on the second call: the call and its result, in order.
    sent, options = llm.calls[1]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": {"city": "Paris"}}
    assert sent[2]["content"] == "20 C, sunny"
    assert options.tools[0]["function"]["name"] == "get_weather"


def test_a_forced_tool_choice_and_streaming(live):
    llm = ScriptedLLM(['{"name": "get_weather", "arguments": {"city": "Oslo"}}', "Cold."])
    base = live({"planner": llm})
    forced = _chat_model(base).bind_tools([WEATHER], tool_choice="get_weather")
    reply = forced.invoke("Weather in Oslo?")
    assert reply.tool_calls[0]["args"] == {"city": "Oslo"}
    schema = llm.calls[0][1].constraint.json_schema
    assert schema["properties"]["name"] == {"const": "get_weather"}

    pieces = [chunk.content for chunk in _chat_model(base).stream("Weather in Oslo?")]
    assert "".join(pieces) == "Cold."


@pytest.mark.gguf
def test_the_embedded_model_answers_and_calls_a_tool(live, monkeypatch):
    from foreplan.llm.registry import get_model, pull
    from foreplan.llm.resolve import resolve_model

    monkeypatch.setenv("FOREPLAN_THREADS", "1")
    pull(get_model("qwen2.5-coder-0.5b"))
    base = live({"planner": resolve_model("qwen2.5-coder-0.5b")}, max_tokens_limit=32)
    chat = _chat_model(base, temperature=0, max_tokens=24)
    assert chat.invoke("Say hello.").content.strip()

    reply = chat.bind_tools([WEATHER], tool_choice="required").invoke("What is the weather in Paris?")
    (call,) = reply.tool_calls
    assert call["name"] == "get_weather" and isinstance(call["args"].get("city"), str)
    assert json.loads(json.dumps(call["args"]))  # plain JSON arguments, as OpenAI sends them
