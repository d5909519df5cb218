"""The OpenAI HTTP backend: request shape and error paths on ``httpx.MockTransport``,
then the real thing against llama-cpp-python's server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from foreplan.errors import LLMError, UnknownModelError
from foreplan.llm.base import LLM, Constraint, GenerationOptions
from foreplan.llm.openai_http import OpenAIHttpLLM, parse_openai_spec

BASE = "http://llm.test/v1"
USER = [{"role": "user", "content": "Is it raining?"}]
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def chat_reply(text: str = "yes", finish_reason: str = "stop", **extra: object) -> httpx.Response:
    body = {"id": "c1", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                      "prompt_tokens_details": {"cached_tokens": 8}}}
    return httpx.Response(200, json={**body, **extra})


class Server:
    """A fake OpenAI server: records requests and answers with ``handler``."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"object": "list", "data": [{"id": "qwen-0.5b", "object": "model"}]})
        return self.handler(request)

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests if r.method == "POST"]


@pytest.fixture
def make_llm() -> Iterator[Callable[..., tuple[OpenAIHttpLLM, Server]]]:
    made: list[OpenAIHttpLLM] = []

    def make(handler: Callable[[httpx.Request], httpx.Response] = lambda r: chat_reply(), **kwargs: object):
        server = Server(handler)
        kwargs.setdefault("model", "qwen")
        llm = OpenAIHttpLLM(BASE, transport=httpx.MockTransport(server), **kwargs)  # type: ignore[arg-type]
        made.append(llm)
        return llm, server

    yield make
    for llm in made:
        llm.close()


# --- request shape and reply parsing ---------------------------------------------------


def test_plain_request_and_reply(make_llm, monkeypatch):
    monkeypatch.delenv("FOREPLAN_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm, server = make_llm(lambda r: chat_reply("no", "length"))
    out = llm.generate(USER, GenerationOptions(max_tokens=7, temperature=0.5))
    assert (out.text, out.finish_reason) == ("no", "length")
    assert out.usage.to_dict() == {"prompt_tokens": 12, "completion_tokens": 3, "cached_tokens": 8, "calls": 1,
                                   "seconds": 0.0}
    request = server.requests[0]
    assert (request.method, str(request.url)) == ("POST", "http://llm.test/v1/chat/completions")
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {"model": "qwen", "messages": USER, "max_tokens": 7, "temperature": 0.5}
    assert llm.name == "openai:qwen" and llm.supports_grammar and isinstance(llm, LLM)


def test_stop_seed_and_grammar_are_sent(make_llm):
    llm, server = make_llm()
    grammar = 'root ::= "yes" | "no"'
    llm.generate(USER, GenerationOptions(stop=("\n", "Observation:"), seed=42, constraint=Constraint(grammar=grammar)))
    body = server.bodies()[0]
    assert (body["stop"], body["seed"], body["grammar"]) == (["\n", "Observation:"], 42, grammar)
    assert "response_format" not in body


def test_json_schema_uses_the_openai_form_first(make_llm):
    llm, server = make_llm(lambda r: chat_reply('{"ok": true}'))
    llm.generate(USER, GenerationOptions(constraint=Constraint(json_schema=SCHEMA)))
    assert server.bodies()[0]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "arguments", "schema": SCHEMA}}
    assert llm.json_schema_form == "openai"


def llama_cpp_python_server(request: httpx.Request) -> httpx.Response:
    """What llama-cpp-python 0.3.36 answers to the OpenAI form (observed): HTTP 500."""
    if json.loads(request.content)["response_format"]["type"] == "json_schema":
        message = "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type')}"
        return httpx.Response(500, json={"error": {"message": message, "type": "internal_server_error"}})
    return chat_reply('{"ok": false}')


def test_json_schema_falls_back_to_the_llama_cpp_form_once(make_llm):
    llm, server = make_llm(llama_cpp_python_server)
    options = GenerationOptions(constraint=Constraint(json_schema=SCHEMA))
    assert llm.generate(USER, options).text == '{"ok": false}'
    assert llm.generate(USER, options).text == '{"ok": false}'
    forms = [b["response_format"]["type"] for b in server.bodies()]
    assert forms == ["json_schema", "json_object", "json_object"]
    assert server.bodies()[1]["response_format"]["schema"] == SCHEMA
    assert llm.json_schema_form == "llama.cpp"


def test_json_schema_rejected_in_both_forms(make_llm):
    llm, _ = make_llm(lambda r: httpx.Response(400, json={"error": {"message": "bad response_format"}}))
    with pytest.raises(LLMError, match="rejected both forms.*bad response_format.*bad response_format"):
        llm.generate(USER, GenerationOptions(constraint=Constraint(json_schema=SCHEMA)))
    assert llm.json_schema_form is None


def test_model_is_discovered_once_and_api_key_sent(make_llm, monkeypatch):
    monkeypatch.setenv("FOREPLAN_API_KEY", "k-foreplan")
    monkeypatch.setenv("OPENAI_API_KEY", "k-openai")
    llm, server = make_llm(model=None)
    llm.generate(USER, GenerationOptions())
    llm.generate(USER, GenerationOptions())
    assert [r.method for r in server.requests] == ["GET", "POST", "POST"]
    assert str(server.requests[0].url) == "http://llm.test/v1/models"
    assert llm.name == "openai:qwen-0.5b" and server.bodies()[0]["model"] == "qwen-0.5b"
    assert {r.headers["authorization"] for r in server.requests} == {"Bearer k-foreplan"}


def test_openai_api_key_is_the_fallback(make_llm, monkeypatch):
    monkeypatch.delenv("FOREPLAN_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "k-openai")
    llm, server = make_llm()
    llm.generate(USER, GenerationOptions())
    assert server.requests[0].headers["authorization"] == "Bearer k-openai"


def test_null_content_and_missing_usage(make_llm):
    reply = {"choices": [{"message": {"role": "assistant", "content": None}, "finish_reason": None}]}
    llm, _ = make_llm(lambda r: httpx.Response(200, json=reply))
    out = llm.generate(USER, GenerationOptions())
    assert (out.text, out.finish_reason, out.usage.prompt_tokens, out.usage.calls) == ("", "stop", 0, 1)


def test_concurrent_calls_share_one_client(make_llm):
    llm, server = make_llm(lambda r: chat_reply(json.loads(r.content)["messages"][0]["content"]))
    results: dict[int, str] = {}

    def call(i: int) -> None:
        results[i] = llm.generate([{"role": "user", "content": f"q{i}"}], GenerationOptions()).text

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"q{i}" for i in range(8)} and len(server.requests) == 8


# --- errors: always LLMError, saying what to check -------------------------------------


def raises(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(("handler", "match"), [
    (raises(httpx.ConnectError("Connection refused")), r"Could not connect.*Is the OpenAI-compatible server running"),
    (raises(httpx.ReadTimeout("timed out")), r"no answer within 3 s.*raise the timeout"),
    (raises(httpx.RemoteProtocolError("Server disconnected")), r"RemoteProtocolError.*still running"),
    (lambda r: httpx.Response(401, json={"detail": "Invalid API key"}), r"HTTP 401: Invalid API key.*FOREPLAN_API_KEY"),
    (lambda r: httpx.Response(404, json={"detail": "Not Found"}), r"HTTP 404: Not Found.*ends in /v1"),
    (lambda r: httpx.Response(400, json={"error": {"message": "maximum context length is 2048 tokens"}}),
     r"HTTP 400: maximum context length is 2048 tokens.*context length"),
    (lambda r: httpx.Response(422, json={"detail": [{"loc": ["body", "messages"], "msg": "Field required"}]}),
     r'HTTP 422: \[\{"loc".*Field required'),
    (lambda r: httpx.Response(502, text="Bad Gateway"), r"HTTP 502: Bad Gateway.*read its log"),
    (lambda r: httpx.Response(200, text="<html>hello</html>"), r"not JSON: '<html>hello</html>'.*OpenAI-compatible"),
    (lambda r: httpx.Response(200, json={"object": "chat.completion"}), r"without a chat completion.*'qwen'"),
    (lambda r: httpx.Response(200, json={"choices": []}), r"without a chat completion"),
    (lambda r: httpx.Response(200, json=[1, 2]), r"without a chat completion"),
])
def test_errors_become_llm_errors(make_llm, handler, match):
    llm, _ = make_llm(handler, timeout=3.0)
    with pytest.raises(LLMError, match=match):
        llm.generate(USER, GenerationOptions())


def test_rejected_grammar_suggests_grammar_false(make_llm):
    error = {"error": {"message": "Unrecognized request argument: grammar"}}
    llm, _ = make_llm(lambda r: httpx.Response(400, json=error))
    with pytest.raises(LLMError, match="Unrecognized request argument: grammar.*grammar=False"):
        llm.generate(USER, GenerationOptions(constraint=Constraint(grammar='root ::= "a"')))


def test_grammar_refused_when_switched_off(make_llm):
    llm, server = make_llm(grammar=False)
    assert not llm.supports_grammar
    with pytest.raises(LLMError, match="grammar=False"):
        llm.generate(USER, GenerationOptions(constraint=Constraint(grammar='root ::= "a"')))
    assert server.requests == []


def test_real_connection_refused():
    with socket.socket() as s:  # a port that nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with OpenAIHttpLLM(f"http://127.0.0.1:{port}/v1", model="m") as llm, \
            pytest.raises(LLMError, match=rf"Could not connect.*running at http://127.0.0.1:{port}/v1"):
        llm.generate(USER, GenerationOptions())


@pytest.mark.parametrize(("reply", "match"), [
    (httpx.Response(200, json={"object": "list", "data": []}), r"lists no model.*openai:http"),
    (httpx.Response(404, text="no such route"), r"GET http://llm.test/v1/models answered HTTP 404: no such route"),
])
def test_model_discovery_errors(reply, match):
    with pytest.raises(LLMError, match=match):
        OpenAIHttpLLM(BASE, transport=httpx.MockTransport(lambda r: reply))


def test_base_url_must_be_http():
    with pytest.raises(LLMError, match="must start with http"):
        OpenAIHttpLLM("localhost:8080/v1", model="m")


# --- the CLI's --model openai:BASE_URL#MODEL -------------------------------------------


def test_parse_spec_with_model():
    with parse_openai_spec("openai:http://127.0.0.1:8080/v1/#qwen", timeout=5.0) as llm:
        assert (llm.base_url, llm.model, llm.name) == ("http://127.0.0.1:8080/v1", "qwen", "openai:qwen")
        assert llm.timeout == 5.0
        assert llm.supports_grammar


def test_parse_spec_without_model_asks_the_server():
    transport = httpx.MockTransport(Server(lambda r: chat_reply()))
    for spec in ("openai:http://gpu-box:8000/v1", "openai:http://gpu-box:8000/v1#"):
        with parse_openai_spec(spec, transport=transport) as llm:
            assert llm.model == "qwen-0.5b"


def test_parse_spec_openai_itself_has_no_grammar():
    with parse_openai_spec("openai:https://api.openai.com/v1#gpt-4o-mini") as llm:
        assert not llm.supports_grammar
    with parse_openai_spec("openai:https://api.openai.com/v1#gpt-4o-mini", grammar=True) as llm:
        assert llm.supports_grammar


@pytest.mark.parametrize("spec", ["qwen", "openai:", "openai:127.0.0.1:8080/v1#qwen", "openai:ftp://host/v1",
                                  "openai:http://#qwen", "http://127.0.0.1:8080/v1", "openai:http://h:99999999/v1"])
def test_parse_spec_rejects(spec):
    with pytest.raises(UnknownModelError, match=r"openai:BASE_URL#MODEL.*e\.g\. openai:http://127\.0\.0\.1:8080/v1"):
        parse_openai_spec(spec)


# --- a real llama-cpp-python server ----------------------------------------------------


@pytest.fixture(scope="module")
def served(llama_server: str) -> Iterator[OpenAIHttpLLM]:
    with OpenAIHttpLLM(llama_server, timeout=120.0) as llm:
        yield llm


@pytest.mark.server
@pytest.mark.gguf
def test_real_server_chat(served):
    assert served.name.startswith("openai:") and served.name.endswith(".gguf")
    out = served.generate([{"role": "user", "content": "Say hello."}], GenerationOptions(max_tokens=8))
    assert out.text.strip()
    assert out.usage.prompt_tokens > 0 and out.usage.completion_tokens > 0 and out.usage.calls == 1
    assert out.finish_reason in ("stop", "length")


@pytest.mark.server
@pytest.mark.gguf
def test_real_server_json_schema(served):
    messages = [{"role": "user", "content": "Is water wet? Answer as JSON with a boolean field ok."}]
    out = served.generate(messages, GenerationOptions(max_tokens=16, constraint=Constraint(json_schema=SCHEMA)))
    value = json.loads(out.text)
    assert set(value) == {"ok"} and isinstance(value["ok"], bool)
    assert served.json_schema_form == "llama.cpp"


@pytest.mark.server
@pytest.mark.gguf
def test_real_server_grammar(served):
    messages = [{"role": "user", "content": "Is the sky blue? Answer yes or no."}]
    yes_no = Constraint(grammar='root ::= "yes" | "no"')
    out = served.generate(messages, GenerationOptions(max_tokens=4, constraint=yes_no))
    assert out.text in ("yes", "no")


@pytest.mark.server
@pytest.mark.gguf
def test_real_server_error_is_readable(served):
    messages = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(LLMError, match="HTTP 400: This model's maximum context length is 2048 tokens"):
        served.generate(messages, GenerationOptions(max_tokens=4))
