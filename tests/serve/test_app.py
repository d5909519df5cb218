"""The OpenAI-compatible endpoints on ScriptedLLM: health, models, chat, completions, SSE."""

from __future__ import annotations

import pytest

from foreplan import ScriptedLLM
from tests.serve.conftest import sse_data


def test_health_and_models_list_aliases_and_embedded_names(serve):
    client = serve({"planner": ScriptedLLM([]), "solver": ScriptedLLM([])},
                   models={"planner": "qwen2.5-coder-0.5b", "solver": "./my.gguf"})
    health = client.get("/health").json()
    assert health["status"] == "ok" and set(health["models"]) == {"planner", "solver"}
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids == ["planner", "solver", "qwen2.5-coder-0.5b"]
    assert client.get("/v1/models/qwen2.5-coder-0.5b").json()["owned_by"] == "qwen2.5-coder-0.5b"


def test_unknown_model_is_404_in_the_openai_shape(serve):
    client = serve({"planner": ScriptedLLM([])})
    r = client.post("/v1/chat/completions", json={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 404
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "model_not_found" and error["param"] == "model" and "'gpt-4'" in error["message"]


def test_chat_passes_the_options_and_reports_usage(serve):
    llm = ScriptedLLM(["Paris is the capital."])
    client = serve({"planner": llm})
    r = client.post("/v1/chat/completions", json={
        "model": "planner", "temperature": 0, "max_tokens": 7, "stop": "\n", "seed": 3,
        "messages": [{"role": "developer", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": "Capital of France?"}]}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "planner"
    assert body["choices"][0] == {"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": "Paris is the capital.", "tool_calls": None}}
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9,
                             "prompt_tokens_details": {"cached_tokens": 0}}
    messages, options = llm.calls[0]
    assert messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    assert (options.max_tokens, options.temperature, options.stop, options.seed) == (7, 0, ("\n",), 3)
    assert options.constraint.json_schema is None and options.tools is None


def test_max_tokens_over_the_limit_is_400(serve):
    client = serve({"planner": ScriptedLLM([])}, max_tokens_limit=16)
    r = client.post("/v1/chat/completions", json={"model": "planner", "max_tokens": 17,
                                                  "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "max_tokens" and "16" in r.json()["error"]["message"]


def test_invalid_fields_are_400_not_422(serve):
    client = serve({"planner": ScriptedLLM([])})
    r = client.post("/v1/chat/completions", json={"model": "planner", "messages": []})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "messages" and r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(("field", "value"), [("stream", 0), ("max_tokens", "64"), ("temperature", True),
                                              ("max_tokens", 8.5), ("seed", False)])
def test_fields_of_the_wrong_type_are_400_not_coerced(serve, field, value):
    client = serve({"planner": ScriptedLLM([])})
    body = {"model": "planner", "messages": [{"role": "user", "content": "hi"}], field: value}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 400 and r.json()["error"]["param"] == field


def test_whole_floats_are_integers_as_in_json_schema(serve):
    llm = ScriptedLLM(["ok"])
    client = serve({"planner": llm})
    body = {"model": "planner", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16.0}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200 and llm.calls[0][1].max_tokens == 16


def test_a_wrong_method_is_405_naming_every_method_of_the_path(serve):
    client = serve({"planner": ScriptedLLM([])})
    r = client.request("DELETE", "/v1/agent/runs")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert client.put("/v1/chat/completions").headers["allow"] == "POST"
    assert client.delete("/v1/agent/runs/run_1").headers["allow"] == "GET"


@pytest.mark.parametrize(("fmt", "schema"), [
    ({"type": "json_object"}, {"type": "object"}),
    ({"type": "json_schema", "json_schema": {"name": "city", "schema": {"type": "object", "properties": {
        "city": {"type": "string"}}, "required": ["city"]}}},
     {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
])
def test_response_format_becomes_a_json_schema_constraint(serve, fmt, schema):
    llm = ScriptedLLM(['{"city": "Paris"}'])
    client = serve({"planner": llm})
    r = client.post("/v1/chat/completions", json={"model": "planner", "response_format": fmt,
                                                  "messages": [{"role": "user", "content": "city?"}]})
    assert r.json()["choices"][0]["message"]["content"] == '{"city": "Paris"}'
    assert llm.calls[0][1].constraint.json_schema == schema


def test_chat_stream_is_sse_ending_with_done(serve):
    client = serve({"planner": ScriptedLLM(["Hello there"])})
    r = client.post("/v1/chat/completions", json={"model": "planner", "stream": True,
                                                  "stream_options": {"include_usage": True},
                                                  "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_data(r.text)
    assert events[-1] == "[DONE]"
    assert all(e["object"] == "chat.completion.chunk" for e in events[:-1])
    assert [e["choices"][0]["delta"] for e in events[:3]] == [
        {"role": "assistant", "content": ""}, {"content": "Hello"}, {"content": " there"}]
    assert events[3]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert events[4]["choices"] == [] and events[4]["usage"]["completion_tokens"] == 2


def test_a_failure_inside_a_stream_is_an_error_event(serve):
    client = serve({"planner": ScriptedLLM([])})
    r = client.post("/v1/chat/completions", json={"model": "planner", "stream": True,
                                                  "messages": [{"role": "user", "content": "hi"}]})
    events = sse_data(r.text)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"  # sent before generation starts
    assert events[1]["error"]["code"] == "backend_error" and "no reply left" in events[1]["error"]["message"]
    assert events[-1] == "[DONE]" and len(events) == 3


def test_completions_prompt_to_text(serve):
    llm = ScriptedLLM([" world"])
    client = serve({"planner": llm})
    r = client.post("/v1/completions", json={"model": "planner", "prompt": "hello", "max_tokens": 5})
    body = r.json()
    assert body["object"] == "text_completion" and body["choices"][0]["text"] == " world"
    assert llm.calls[0][0] == [{"role": "user", "content": "hello"}]
    r = client.post("/v1/completions", json={"model": "planner", "prompt": ["a", "b"]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"


def test_completions_stream(serve):
    client = serve({"planner": ScriptedLLM(["abc def"])})
    events = sse_data(client.post("/v1/completions", json={
        "model": "planner", "prompt": "x", "stream": True, "stream_options": {"include_usage": True}}).text)
    assert [e["choices"][0]["text"] for e in events[:3]] == ["abc", " def", ""]
    assert events[2]["choices"][0]["finish_reason"] == "stop" and events[-1] == "[DONE]"
    assert events[3]["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3,
                                  "prompt_tokens_details": {"cached_tokens": 0}}


def test_sampling_fields_reach_the_backend(serve):
    llm = ScriptedLLM(["a", "b"])
    client = serve({"planner": llm})
    client.post("/v1/chat/completions", json={"model": "planner", "temperature": 0.7, "top_p": 0.9, "top_k": 20,
                                              "seed": 11, "messages": [{"role": "user", "content": "hi"}]})
    client.post("/v1/completions", json={"model": "planner", "prompt": "x", "top_p": 0.5})
    first, second = llm.calls[0][1], llm.calls[1][1]
    assert (first.temperature, first.top_p, first.top_k, first.seed) == (0.7, 0.9, 20, 11)
    assert (second.top_p, second.top_k) == (0.5, None)
    assert client.post("/v1/completions", json={"model": "planner", "prompt": "x", "top_p": 0}).status_code == 400
