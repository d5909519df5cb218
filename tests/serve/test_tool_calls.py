"""tools + tool_choice: what the model is shown, how it is constrained, what comes back."""

from __future__ import annotations

import json

from foreplan import ScriptedLLM
from foreplan.llm.chat_template import ChatTemplate
from foreplan.serve.tool_calls import parse_tool_calls
from tests.serve.conftest import sse_data

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
ASK = [{"role": "user", "content": "Weather in Paris?"}]


def _chat(client, **fields):
    return client.post("/v1/chat/completions", json={"model": "planner", "messages": ASK} | fields)


def test_auto_parses_qwen_tool_call_tags(serve):
    llm = ScriptedLLM(['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'])
    body = _chat(serve({"planner": llm}), tools=[WEATHER]).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    options = llm.calls[0][1]
    assert options.tools[0]["function"]["name"] == "get_weather" and options.constraint.json_schema is None


def test_auto_without_a_call_is_plain_content(serve):
    body = _chat(serve({"planner": ScriptedLLM(["It is sunny."])}), tools=[WEATHER], tool_choice="auto").json()
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "It is sunny.", "tool_calls": None}
    assert body["choices"][0]["finish_reason"] == "stop"


def test_none_hides_the_tools_and_parses_nothing(serve):
    llm = ScriptedLLM(["<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>"])
    body = _chat(serve({"planner": llm}), tools=[WEATHER], tool_choice="none").json()
    assert body["choices"][0]["message"]["tool_calls"] is None and llm.calls[0][1].tools is None


def test_named_choice_constrains_to_that_tools_arguments(serve):
    llm = ScriptedLLM(['{"name": "get_weather", "arguments": {"city": "Paris"}}'])
    body = _chat(serve({"planner": llm}), tools=[WEATHER, TIME],
                 tool_choice={"type": "function", "function": {"name": "get_weather"}}).json()
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert json.loads(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert llm.calls[0][1].constraint.json_schema == {
        "type": "object", "required": ["name", "arguments"],
        "properties": {"name": {"const": "get_weather"}, "arguments": WEATHER["function"]["parameters"]}}


def test_required_allows_any_of_the_tools(serve):
    llm = ScriptedLLM(['{"name": "get_time", "arguments": {}}'])
    body = _chat(serve({"planner": llm}), tools=[WEATHER, TIME], tool_choice="required").json()
    assert body["choices"][0]["message"]["tool_calls"][0]["function"] == {"name": "get_time", "arguments": "{}"}
    schema = llm.calls[0][1].constraint.json_schema
    assert [b["properties"]["name"]["const"] for b in schema["anyOf"]] == ["get_weather", "get_time"]


def test_bad_tool_choices_are_400(serve):
    client = serve({"planner": ScriptedLLM([])})
    r = _chat(client, tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}})
    assert r.status_code == 400 and r.json()["error"]["param"] == "tool_choice"
    assert _chat(client, tool_choice="required").status_code == 400


def test_streamed_tool_calls_arrive_as_tool_call_deltas(serve):
    llm = ScriptedLLM(['{"name": "get_weather", "arguments": {"city": "Oslo, Norway"}}'])
    events = sse_data(_chat(serve({"planner": llm}), tools=[WEATHER], tool_choice="required", stream=True).text)
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    head = deltas[1]["tool_calls"][0]
    assert head["index"] == 0 and head["type"] == "function" and head["id"].startswith("call_")
    assert head["function"] == {"name": "get_weather", "arguments": ""}
    pieces = [d["tool_calls"][0]["function"]["arguments"] for d in deltas[2:-1]]
    assert len(pieces) > 1 and "".join(pieces) == '{"city": "Oslo, Norway"}'
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls" and events[-1] == "[DONE]"


def test_earlier_tool_calls_reach_the_template_as_objects(serve):
    llm = ScriptedLLM(["It is 20 degrees in Paris."])
    history = ASK + [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "20 C"}]
    _chat(serve({"planner": llm}), tools=[WEATHER], messages=history)
    assistant = llm.calls[0][0][1]
    assert assistant["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}
    assert llm.calls[0][0][2] == {"role": "tool", "content": "20 C"}


def test_parse_keeps_text_around_calls_and_non_json_blocks():
    content, calls = parse_tool_calls('Let me check.\n<tool_call>{"name": "a", "arguments": {"x": 1}}</tool_call>')
    assert content == "Let me check." and calls[0].function.arguments == '{"x": 1}'
    text = "<tool_call>not json</tool_call>"
    assert parse_tool_calls(text) == (text, [])


def test_chat_template_renders_the_tools():
    template = ChatTemplate("{% for t in tools or [] %}[{{ t.function.name }}]{% endfor %}"
                            "{% for m in messages %}{{ m.content }}{% endfor %}")
    assert template.render(ASK, tools=[WEATHER]) == "[get_weather]Weather in Paris?"
    assert template.render(ASK) == "Weather in Paris?"


# Bare and fenced calls: how the embedded Qwen2.5-Coder models write them.
BARE = '{"name": "get_weather", "arguments": {"city": "Paris"}}'


def test_auto_reads_a_bare_json_call_of_a_given_tool(serve):
    body = _chat(serve({"planner": ScriptedLLM(["\n" + BARE + "\n"])}), tools=[WEATHER]).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


def test_bare_calls_one_per_line_are_parallel_calls():
    second = '{"name": "get_weather", "arguments": {"city": "Rome"}}'
    content, calls = parse_tool_calls(f"{BARE}\n\n{second}\n", {"get_weather"})
    assert content is None
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Rome"]
    content, calls = parse_tool_calls(f"[{BARE}, {second}]", {"get_weather"})
    assert content is None and len(calls) == 2


def test_a_fenced_call_and_the_words_around_it():
    content, calls = parse_tool_calls(f"I will look it up.\n```json\n{BARE}\n```", {"get_weather"})
    assert content == "I will look it up." and calls[0].function.name == "get_weather"


def test_json_that_is_not_a_call_of_a_given_tool_stays_content():
    for text in ['{"name": "send_money", "arguments": {"to": "me"}}',  # not one of the tools
                 '{"name": "get_weather", "arguments": "Paris"}',        # arguments not an object
                 'Use {"city": "Paris"} as the input.', "{not json"]:
        assert parse_tool_calls(text, {"get_weather"}) == (text, [])
    assert parse_tool_calls(BARE) == (BARE, [])  # no tools given: nothing is a call


def test_a_tagged_call_wins_and_bare_json_beside_it_stays_content():
    text = f'<tool_call>{BARE}</tool_call>\nExample: {{"name": "get_weather", "arguments": {{}}}}'
    content, calls = parse_tool_calls(text, {"get_weather"})
    assert len(calls) == 1 and content == 'Example: {"name": "get_weather", "arguments": {}}'


def test_a_streamed_bare_call_is_never_sent_as_content(serve):
    llm = ScriptedLLM(["\n" + BARE])
    events = sse_data(_chat(serve({"planner": llm}), tools=[WEATHER], stream=True).text)
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    assert "".join(d.get("content") or "" for d in deltas) == ""
    assert deltas[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_streamed_content_with_braces_still_arrives_whole(serve):
    text = "Write it as {city} in the template."
    events = sse_data(_chat(serve({"planner": ScriptedLLM([text])}), tools=[WEATHER], stream=True).text)
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1]) == text
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
