"""Any OpenAI-compatible chat server as a foreplan LLM.

This is how foreplan outgrows one machine (DESIGN.md): vLLM, llama-server, Ollama,
llama-cpp-python's server, ``foreplan serve`` or OpenAI itself answer
``POST {base_url}/chat/completions``, and the agent's parallel steps become concurrent
requests on one shared ``httpx.Client`` (thread-safe, it pools connections).

Constraints travel in the fields each server family reads:

    GBNF grammar ──► top-level "grammar"              llama-cpp-python server, llama-server
    JSON schema  ──► response_format {"type": "json_schema", "json_schema": {...}}
                     │                                OpenAI, vLLM, llama-server, Ollama
                     └─ rejected ──► response_format {"type": "json_object", "schema": ...}
                                                      llama-cpp-python server (remembered)

With ``GenerationOptions.on_text`` set, requests ask for ``"stream": true`` plus usage and
pass SSE deltas on as they arrive (usage 0 if the server sends none); a JSON-schema
request is not streamed (its form may need a second try): its text goes on whole.

Every failure (refused connection, timeout, HTTP error, a reply that is no chat
completion) becomes an :class:`~foreplan.errors.LLMError` saying what to check; no
httpx exception escapes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from foreplan.errors import LLMError, UnknownModelError
from foreplan.llm.base import GenerationOptions, Message
from foreplan.llm.streaming import TextStream, iter_sse_data
from foreplan.types import Completion, Usage

SchemaForm = Literal["openai", "llama.cpp"]
_EXAMPLE = "openai:http://127.0.0.1:8080/v1#MODEL"


def _response_format(form: SchemaForm, schema: dict[str, Any]) -> dict[str, Any]:
    if form == "openai":
        return {"type": "json_schema", "json_schema": {"name": "arguments", "schema": schema}}
    # llama_cpp/llama_types.py ChatCompletionRequestResponseFormat: type "text" | "json_object"
    # plus an optional "schema" (the Anyscale JSON-mode convention it cites).
    return {"type": "json_object", "schema": schema}


def _server_message(response: httpx.Response) -> str:
    """The server's own words: OpenAI ``{"error": {"message"}}``, FastAPI ``detail``, or text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or "(empty body)"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])[:500]
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if value:
                return (value if isinstance(value, str) else json.dumps(value))[:500]
    return json.dumps(body)[:500]


class OpenAIHttpLLM:
    """A model behind an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, transport: httpx.BaseTransport | None = None,
                 grammar: bool = True, json_schema_form: SchemaForm | None = None) -> None:
        """Connect to a server; with ``model=None``, ask ``GET /models`` once for the first id.

        Args:
            base_url: the API root, usually ending in ``/v1`` (``http://127.0.0.1:8080/v1``).
            model: the model name sent with each request.
            api_key: sent as ``Authorization: Bearer``; defaults to ``$FOREPLAN_API_KEY``,
                then ``$OPENAI_API_KEY``.
            timeout: seconds to wait for each request (generation included).
            transport: an httpx transport (tests pass ``httpx.MockTransport``).
            grammar: whether the server honours a top-level GBNF ``grammar`` field
                (False for OpenAI itself).
            json_schema_form: the ``response_format`` form for JSON schemas; None probes
                the OpenAI form first and falls back to llama-cpp-python's.

        Raises:
            LLMError: a base URL that is not http(s), or model discovery failed.
        """
        self.base_url = base_url.rstrip("/")
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise LLMError(f"Base URL {base_url!r} must start with http:// or https://, e.g. {_EXAMPLE}.")
        if api_key is None:
            api_key = os.environ.get("FOREPLAN_API_KEY") or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout
        self.supports_grammar = grammar
        self.json_schema_form: SchemaForm | None = json_schema_form
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)
        try:
            self.model = model if model is not None else self._discover_model()
        except LLMError:
            self._client.close()
            raise
        self.name = f"openai:{self.model}"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIHttpLLM:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        body: dict[str, Any] = {"model": self.model, "messages": messages,
                                "max_tokens": options.max_tokens, "temperature": options.temperature}
        if options.stop:
            body["stop"] = list(options.stop)
        if options.seed is not None:
            body["seed"] = options.seed
        if options.top_p != 1.0:
            body["top_p"] = options.top_p
        if options.top_k is not None:
            body["top_k"] = options.top_k  # vLLM, llama.cpp and Ollama read it; OpenAI does not
        c = options.constraint
        if c.grammar is not None:
            if not self.supports_grammar:
                raise LLMError(f"{self.name} was set up with grammar=False, so it cannot honour a GBNF "
                               "grammar; turn the grammar off for this model.")
            body["grammar"] = c.grammar
        elif c.json_schema is not None:
            completion = self._generate_with_schema(body, c.json_schema)
            if options.on_text is not None and completion.text:
                options.on_text(completion.text)
            return completion
        if options.on_text is not None:
            return self._stream(body, options, grammar=c.grammar is not None)
        return self._completion(self._send("POST", "/chat/completions", body), grammar=c.grammar is not None)

    def _stream(self, body: dict[str, Any], options: GenerationOptions, grammar: bool) -> Completion:
        """POST with ``stream: true``; each content delta goes to ``options.on_text``."""
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        text = TextStream(options.stop, options.on_text)  # a server may not hold stop prefixes back
        usage: dict[str, Any] = {}
        finish = "stop"
        with self._errors("POST", "/chat/completions"), \
                self._client.stream("POST", "/chat/completions", json=body) as response:
            if not response.is_success:
                response.read()
                self._json(response, grammar)  # raises with the server's message
            try:
                for chunk in iter_sse_data(response.iter_lines()):
                    if isinstance(chunk.get("usage"), dict):
                        usage = chunk["usage"]
                    choices = chunk.get("choices")
                    choice = choices[0] if isinstance(choices, list) and choices else {}
                    delta = choice.get("delta") if isinstance(choice, dict) else None
                    if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                        text.push(text.text + delta["content"])
                    if isinstance(choice, dict) and choice.get("finish_reason"):
                        finish = choice["finish_reason"]
            except ValueError as exc:
                raise LLMError(f"{self.base_url}/chat/completions streamed a chunk that is not JSON ({exc}). "
                               "Is it an OpenAI-compatible server?") from exc
        used = read_usage(usage)
        return Completion(text.finish(), used, "stop" if text.stopped else finish)

    def _generate_with_schema(self, body: dict[str, Any], schema: dict[str, Any]) -> Completion:
        def post(form: SchemaForm) -> httpx.Response:
            return self._send("POST", "/chat/completions", {**body, "response_format": _response_format(form, schema)})

        form: SchemaForm = self.json_schema_form or "openai"
        response = post(form)
        # llama-cpp-python's server answers the OpenAI form with HTTP 500 (a pydantic
        # literal_error on response_format.type); other servers may say 400 or 422.
        if (self.json_schema_form is None and response.status_code in (400, 422, 500)
                and "response_format" in response.text):
            first, form = _server_message(response), "llama.cpp"
            response = post(form)
            if not response.is_success:
                raise LLMError(
                    f"{self.base_url} rejected both forms of a JSON-schema response_format. "
                    f"OpenAI form: {first} llama.cpp form (HTTP {response.status_code}): "
                    f"{_server_message(response)} Check that this server supports JSON-schema "
                    "constrained output, or call it without a schema."
                )
        completion = self._completion(response)
        self.json_schema_form = form
        return completion

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        with self._errors(method, path):
            return self._client.request(method, path, json=body)

    @contextmanager
    def _errors(self, method: str, path: str) -> Iterator[None]:
        """httpx's exceptions → LLMError saying what to check."""
        url = f"{self.base_url}{path}"
        try:
            yield
        except httpx.TimeoutException as exc:
            raise LLMError(
                f"{method} {url} got no answer within {self.timeout:g} s. The server may be busy or the "
                "model slow on its hardware: lower max_tokens, raise the timeout, or check the server's log."
            ) from exc
        except httpx.ConnectError as exc:
            raise LLMError(
                f"Could not connect to {url} ({exc}). Is the OpenAI-compatible server running at {self.base_url}? "
                f"Check the host and port, and that the base URL ends in /v1 (e.g. {_EXAMPLE})."
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise LLMError(
                f"{method} {url} failed: {type(exc).__name__}: {exc or 'no details'}. The server may have "
                "crashed or dropped the connection (an invalid GBNF grammar kills llama-cpp-python's "
                "server); check that it is still running and read its log."
            ) from exc

    def _json(self, response: httpx.Response, grammar: bool = False) -> Any:
        where = f"{response.request.method} {response.request.url}"
        if not response.is_success:
            status = response.status_code
            if status in (401, 403):
                hint = "Check the API key: pass api_key, or set FOREPLAN_API_KEY (or OPENAI_API_KEY)."
            elif status == 404:
                hint = (f"Check that the base URL {self.base_url} is the API root (it usually ends in /v1) "
                        "and that the server serves this model (GET /models lists them).")
            elif status >= 500:
                hint = "The server failed on this request; read its log."
            else:
                hint = "Check the model name and the request against the server's limits (context length, max_tokens)."
                if grammar:
                    hint += " If this server does not accept GBNF grammars, use it with grammar=False."
            raise LLMError(f"{where} answered HTTP {status}: {_server_message(response)} {hint}")
        try:
            return response.json()
        except ValueError as exc:
            raise LLMError(
                f"{where} answered with a body that is not JSON: {response.text[:200]!r}. "
                f"Is {self.base_url} an OpenAI-compatible API? Its base URL usually ends in /v1."
            ) from exc

    def _completion(self, response: httpx.Response, grammar: bool = False) -> Completion:
        data = self._json(response, grammar)
        choices = data.get("choices") if isinstance(data, dict) else None
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else None
        if not isinstance(message, dict) or not isinstance(text, str | None):
            raise LLMError(
                f"{response.request.url} answered without a chat completion (no choices[0].message.content): "
                f"{response.text[:200]!r}. Is {self.base_url} an OpenAI-compatible chat API, and "
                f"{self.model!r} a chat model?"
            )
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Completion(
            text or "",
            read_usage(usage),
            choice.get("finish_reason") or "stop",
        )

    def _discover_model(self) -> str:
        data = self._json(self._send("GET", "/models"))
        models = data.get("data") if isinstance(data, dict) else None
        if not isinstance(models, list) or not models or not isinstance(models[0], dict) or "id" not in models[0]:
            raise LLMError(f"{self.base_url}/models lists no model ({json.dumps(data)[:200]}). "
                           f"Name the model yourself: {_EXAMPLE}.")
        return str(models[0]["id"])


def parse_openai_spec(spec: str, **options: Any) -> OpenAIHttpLLM:
    """Build the backend for the CLI's ``--model openai:BASE_URL#MODEL`` (``#MODEL`` optional).

    Args:
        spec: e.g. ``openai:http://127.0.0.1:8080/v1#qwen``.
        **options: passed to :class:`OpenAIHttpLLM` (``api_key``, ``timeout``, ...). For
            ``api.openai.com``, ``grammar`` defaults to False (OpenAI has no GBNF field).

    Raises:
        UnknownModelError: the spec is not ``openai:`` followed by an http(s) URL.
        LLMError: the model was left out and the server could not list its models.
    """
    url, _, model = spec.removeprefix("openai:").partition("#")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # .port raises ValueError when out of range
    except ValueError:
        parts, host = None, None
    if not spec.startswith("openai:") or parts is None or parts.scheme not in ("http", "https") or not host:
        raise UnknownModelError(
            f"{spec!r} is not an OpenAI-compatible model spec. Write openai:BASE_URL#MODEL with an "
            f"http(s) base URL, e.g. {_EXAMPLE} (leave out #MODEL to use the server's first model)."
        )
    if host == "api.openai.com":
        options.setdefault("grammar", False)
    return OpenAIHttpLLM(url, model or None, **options)


def read_usage(usage: dict[str, Any]) -> Usage:
    """A server's ``usage`` object; ``prompt_tokens_details.cached_tokens`` where it says
    how much of the prompt came from its cache (OpenAI, vLLM, foreplan serve)."""
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0, 1,
                 cached_tokens=cached if isinstance(cached, int) else 0)
