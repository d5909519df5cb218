"""The FastAPI app: OpenAI-compatible endpoints in front of foreplan's LLM backends.

    GET  /                       the web page (web/: run a task, watch its plan as a graph)
    GET  /health                 liveness and the served aliases (no API key needed)
    GET  /v1/models              aliases, and the embedded model names behind them
    POST /v1/chat/completions    chat, JSON mode / schema, tools, SSE streaming
    POST /v1/completions         a prompt → text
    POST /v1/agent/runs          plan → run → solve (agent_runs.py; also GET runs, toolkits)

The models live on ``app.state`` (built in the lifespan) and reach the routes through
``Depends``: no module globals, so two apps in one process never share a model by
accident (llama_cpp/server/app.py keeps its proxy in a global with a setter).
Generation blocks, so it runs in Starlette's thread pool behind each model's queue;
``stream: true`` sends each piece of text as it is generated (streaming.py), and a
client that disconnects stops its generation at the next token.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from foreplan.llm.base import LLM, Constraint, GenerationOptions
from foreplan.serve import errors
from foreplan.serve.agent_runs import RunStore
from foreplan.serve.agent_runs import router as agent_router
from foreplan.serve.errors import AuthenticationError, InvalidRequestError
from foreplan.serve.middleware import AccessLogMiddleware, BodyLimitMiddleware
from foreplan.serve.models import ModelPool, get_pool
from foreplan.serve.schemas import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    CompletionRequest,
    ErrorResponse,
    ModelCard,
    ModelList,
    ResponseFormat,
    TextChoice,
    TextCompletion,
)
from foreplan.serve.settings import ServeSettings, get_settings
from foreplan.serve.streaming import (
    ChatChunks,
    TextChunks,
    sse_responses,
    stream_generation,
    usage_of,
)
from foreplan.serve.tool_calls import (
    assistant_reply,
    call_schema,
    template_messages,
    tool_mode,
)
from foreplan.tools import Toolkit, default_toolkit

logger = logging.getLogger("foreplan.serve")
WEB = Path(__file__).parent / "web"
"""The page's static files (plain JS, no build step), shipped as package data."""
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404, 413, 429, 502, 503)}


_bearer = HTTPBearer(auto_error=False)


def check_api_key(settings: ServeSettings = Depends(get_settings),
                  credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Raises AuthenticationError (401) when keys are configured and none matches."""
    if not settings.api_keys:
        return
    given = credentials.credentials if credentials else ""
    # compare_digest on every key: the time taken does not reveal how much matched.
    if not any(secrets.compare_digest(given.encode(), key.encode()) for key in settings.api_keys):
        raise AuthenticationError("Missing or wrong API key: send it as 'Authorization: Bearer KEY'."
                                  if given else "Missing API key: send 'Authorization: Bearer KEY'.")


def generation_options(settings: ServeSettings, body: ChatCompletionRequest | CompletionRequest,
                       max_tokens: int | None, constraint: Constraint = Constraint(),
                       tools: tuple[dict[str, Any], ...] | None = None) -> GenerationOptions:
    """Request fields → options (sampling fields as sent), enforcing the server's limits.

    Raises:
        InvalidRequestError: max_tokens over the limit, or more than 4 stop strings.
    """
    if max_tokens is not None and max_tokens > settings.max_tokens_limit:
        raise InvalidRequestError(f"max_tokens is {max_tokens}, above this server's limit of "
                                  f"{settings.max_tokens_limit}.", param="max_tokens")
    stops = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    if len(stops) > 4:
        raise InvalidRequestError("stop takes at most 4 strings.", param="stop")
    return GenerationOptions(max_tokens=max_tokens or min(settings.default_max_tokens, settings.max_tokens_limit),
                             temperature=body.temperature, top_p=body.top_p, top_k=body.top_k, stop=stops,
                             seed=body.seed, constraint=constraint, tools=tools)


def format_constraint(fmt: ResponseFormat | None) -> Constraint:
    """``response_format`` → a JSON-schema constraint (enforced by the backend's grammar)."""
    if fmt is None or fmt.type == "text":
        return Constraint()
    if fmt.type == "json_schema":
        if fmt.json_schema is None or not fmt.json_schema.schema_:
            raise InvalidRequestError("response_format json_schema needs json_schema.schema.",
                                      param="response_format.json_schema")
        return Constraint(json_schema=fmt.json_schema.schema_)
    return Constraint(json_schema=fmt.schema_ or {"type": "object"})


router = APIRouter()
SSE_RESPONSE = sse_responses("a chunk object (the same shape as the JSON body's parts)")

v1 = APIRouter(prefix="/v1", dependencies=[Depends(check_api_key)], responses=_ERRORS)


v1.include_router(agent_router)


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    # The page asks for the API key itself, so it is served without one.
    return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/health")
def health(pool: ModelPool = Depends(get_pool)) -> dict[str, Any]:
    return {"status": "ok", "models": {a: {"spec": m.spec, "queued": m.queue.admitted} for a, m in pool.models.items()}}


@v1.get("/models", response_model=ModelList)
def list_models(pool: ModelPool = Depends(get_pool)) -> ModelList:
    return ModelList(data=[ModelCard(id=name, created=m.created, owned_by=m.spec) for name, m in pool.names()])


@v1.get("/models/{name}", response_model=ModelCard)
def get_model(name: str, pool: ModelPool = Depends(get_pool)) -> ModelCard:
    m = pool.get(name)
    return ModelCard(id=name, created=m.created, owned_by=m.spec)


@v1.post("/chat/completions", response_model=ChatCompletion, responses=SSE_RESPONSE)
async def chat_completions(body: ChatCompletionRequest, pool: ModelPool = Depends(get_pool),
                           settings: ServeSettings = Depends(get_settings)) -> Any:
    served = pool.get(body.model)
    mode = tool_mode(body.tools, body.tool_choice)
    constraint = format_constraint(body.response_format)
    forced = mode is not None and mode not in ("auto", "none")
    if forced:
        if constraint.json_schema is not None:
            raise InvalidRequestError("response_format cannot be combined with a required tool call.",
                                      param="response_format")
        constraint = Constraint(json_schema=call_schema(body.tools or [], mode or ""))
    tools = tuple(t.model_dump(exclude_none=True) for t in body.tools or ()) if mode not in (None, "none") else None
    options = generation_options(settings, body, body.max_completion_tokens or body.max_tokens, constraint, tools)
    messages = template_messages(body.messages)
    names = frozenset(t.function.name for t in body.tools or ())
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:  # the worker holds the queue place (a full queue is 429 before the stream)
        head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model}
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return stream_generation(served, messages, options,
                                 ChatChunks(head, mode, lambda c: assistant_reply(c.text, mode, names), include_usage))
    with served.queue.admit():
        completion = await run_in_threadpool(served.generate, messages, options)
    message = assistant_reply(completion.text, mode, names)
    finish = "tool_calls" if message.tool_calls else completion.finish_reason
    return ChatCompletion(id=cid, created=created, model=body.model, usage=usage_of(completion),
                          choices=[ChatChoice(message=message, finish_reason=finish)])


@v1.post("/completions", response_model=TextCompletion, responses=SSE_RESPONSE)
async def completions(body: CompletionRequest, pool: ModelPool = Depends(get_pool),
                      settings: ServeSettings = Depends(get_settings)) -> Any:
    """A prompt → text. The LLM protocol is chat-shaped, so the prompt is sent as one user
    message and rendered by the model's chat template (a model without one, like the base
    Gemma, sees the prompt as it is)."""
    served = pool.get(body.model)
    if isinstance(body.prompt, list) and len(body.prompt) != 1:
        raise InvalidRequestError("prompt as a list must hold exactly one string.", param="prompt")
    prompt = body.prompt[0] if isinstance(body.prompt, list) else body.prompt
    options = generation_options(settings, body, body.max_tokens)
    messages = [{"role": "user", "content": prompt}]
    cid, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:  # the worker holds the queue place (a full queue is 429 before the stream)
        head = {"id": cid, "object": "text_completion", "created": created, "model": body.model}
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return stream_generation(served, messages, options, TextChunks(head, include_usage))
    with served.queue.admit():
        completion = await run_in_threadpool(served.generate, messages, options)
    return TextCompletion(id=cid, created=created, model=body.model, usage=usage_of(completion),
                          choices=[TextChoice(text=completion.text, finish_reason=completion.finish_reason)])


def create_app(settings: ServeSettings | None = None, llms: Mapping[str, LLM] | None = None,
               toolkits: Mapping[str, Toolkit] | None = None) -> FastAPI:
    """The server for ``settings``.

    Args:
        settings: host, models, limits; defaults to ``ServeSettings()`` (environment).
        llms: a ready backend per alias (tests pass ``ScriptedLLM``); otherwise each
            ``settings.models`` spec is resolved at startup (weights load on first use).
        toolkits: the toolkits agent runs may name; defaults to ``{"default": default_toolkit()}``.

    Returns:
        The app; models are on ``app.state.models`` once its lifespan has started.
    """
    settings = settings or ServeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if llms is not None:
            backends = dict(llms)
        else:
            from foreplan.llm.resolve import ModelRegistry

            registry = ModelRegistry(server=None)  # the server loads its own weights, never FOREPLAN_SERVER's
            backends = {alias: registry.resolve(spec) for alias, spec in settings.models.items()}
        app.state.models = ModelPool.build(settings, backends)
        app.state.runs = RunStore(settings.max_runs)
        app.state.memory = None
        if settings.memory:
            from foreplan.errors import RunStoreError
            from foreplan.memory import RunMemory

            try:
                app.state.memory = RunMemory()
            except RunStoreError as exc:  # a broken store costs memory, never the server
                logger.warning("memory is off: %s", exc)
        logger.info("serving %s", ", ".join(f"{a}={m.spec}" for a, m in app.state.models.models.items()) or "no model")
        yield

    app = FastAPI(title="foreplan", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.toolkits = dict(toolkits) if toolkits else {"default": default_toolkit()}
    errors.install(app)
    app.include_router(router)
    app.include_router(v1)
    app.mount("/web", StaticFiles(directory=WEB), name="web")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware)
    return app
