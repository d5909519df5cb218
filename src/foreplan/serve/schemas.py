"""The request and response bodies of ``foreplan serve``, as pydantic models.

Field names are spelled exactly as the OpenAI API spells them (llama_cpp/llama_types.py
does the same), so every OpenAI client works unchanged. Descriptions shared by several
models live once at the top, like llama_cpp/server/types.py, and show up in the
OpenAPI schema at ``/docs``. Unknown fields are ignored, not rejected: clients send
fields this server does not use (``user``, ``logprobs`` ...) and OpenAI ignores them too.
Known fields are validated strictly, as the schema says: ``"stream": 0`` or
``"max_tokens": "64"`` is a 400, not silently read as ``false`` or ``64``.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

model_field = Field(description="The model alias (e.g. `planner`) or embedded model name to use; GET /v1/models lists them.")
max_tokens_field = Field(default=None, ge=1, description="Most tokens to generate; the server's limit applies.")
temperature_field = Field(default=1.0, ge=0.0, le=2.0, description="Sampling temperature; 0 is greedy.")
top_p_field = Field(default=1.0, gt=0.0, le=1.0, description="Nucleus sampling: sample only from the most likely "
                    "tokens whose probability mass reaches top_p; 1 keeps them all. Ignored at temperature 0.")
top_k_field = Field(default=None, ge=1, description="Sample only from the top_k most likely tokens (a llama.cpp "
                    "extension; not in OpenAI's API). Ignored at temperature 0.")
stop_field = Field(default=None, description="A string or up to 4 strings where generation stops.")
seed_field = Field(default=None, description="Seed of the sampler: the same request with the same seed "
                   "gives the same output.")
stream_field = Field(default=False, description="Send the reply as server-sent events while it is generated, "
                     "ending with `data: [DONE]`.")


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _whole_floats_are_integers(cls, data: Any) -> Any:
        # JSON Schema calls 17.0 an integer (clients that build JSON from floats send it);
        # strict pydantic would refuse it.
        if not isinstance(data, dict):
            return data
        ints = _integer_fields(cls)
        return {k: int(v) if k in ints and isinstance(v, float) and v.is_integer() else v for k, v in data.items()}


@functools.cache
def _integer_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` typed ``int`` (or ``int | None``), found once per model."""
    return frozenset(name for name, f in model.model_fields.items()
                     if f.annotation is int or int in get_args(f.annotation))


class ContentPart(_Request):
    type: str = "text"
    text: str = ""


class FunctionCall(BaseModel):
    name: str
    arguments: str = Field(description="The arguments as a JSON string.")


class ToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Request):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class FunctionDefinition(_Request):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolDefinition(_Request):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class NamedToolChoice(_Request):
    type: Literal["function"] = "function"
    function: dict[str, str] = Field(description='`{"name": TOOL}`: the tool the model must call.')


class JsonSchemaFormat(_Request):
    name: str = "response"
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Request):
    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchemaFormat | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema",
                                           description="llama-cpp-python's form: a schema next to `json_object`.")


class StreamOptions(_Request):
    include_usage: bool = Field(default=False, description="Send a last chunk with `usage` (and no choices).")


class _Generation(_Request):
    """What chat and text completions share: the model and how to sample."""

    model: str = model_field
    max_tokens: int | None = max_tokens_field
    temperature: float = temperature_field
    top_p: float = top_p_field
    top_k: int | None = top_k_field
    stop: str | list[str] | None = stop_field
    seed: int | None = seed_field
    stream: bool = stream_field
    stream_options: StreamOptions | None = None


class ChatCompletionRequest(_Generation):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = max_tokens_field
    n: int = Field(default=1, ge=1, le=1, description="Only one choice is generated.")
    response_format: ResponseFormat | None = None
    tools: list[ToolDefinition] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None


class CompletionRequest(_Generation):
    prompt: str | list[str] = Field(description="The prompt; a list must hold exactly one string.")


class PromptTokensDetails(BaseModel):
    cached_tokens: int
    """Prompt tokens served from the KV prefix cache, as OpenAI and vLLM report them."""


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None = None


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[ToolCall] | None = None


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class TextChoice(BaseModel):
    index: int = 0
    text: str
    finish_reason: str


class TextCompletion(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = Field(description="The spec the model was loaded from (embedded name, GGUF path, URL).")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AgentRunRequest(_Request):
    instruction: str = Field(min_length=1, description="What the agent should do.")
    stream: bool = Field(default=False, description="Send the agent's events as server-sent events.")
    max_steps: int = Field(default=6, ge=1, le=20, description="Most steps the plan may have.")
    max_replans: int = Field(default=1, ge=0, le=5, description=(
        "Rounds of new steps when a step fails, times out or finds nothing, or the solver finds no answer."))
    toolkit: str = Field(default="default", description="Name of a toolkit from GET /v1/agent/toolkits.")
    all_tools: bool = Field(default=False, description=(
        "Show the planner every tool; by default a toolkit of more than 16 tools is cut to those matching the "
        "instruction (a tools_chosen event says which)."))
    planner: str | None = Field(default=None, description="Served model that plans (default: 'planner').")
    solver: str | None = Field(default=None, description="Served model that answers (default: 'solver', "
                                                         "else the planner).")
    confirm: bool = Field(default=False, description=(
        "Pause before each side-effect call with a confirmation_required event; "
        "POST /v1/agent/runs/{id}/confirmations/{step} approves or declines it."))


class ConfirmationAnswer(_Request):
    approve: bool = Field(description="Run the side-effect call (true) or decline it (false).")
    reason: str | None = Field(default=None, max_length=2000, description="Why it was declined, for the solver.")


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
