"""OpenAI ``tools`` / ``tool_choice`` on top of a model that only completes text.

The tools reach the model through its own chat template (Qwen's lists them in the
system turn and asks for ``<tool_call>{...}</tool_call>``); DESIGN.md lists what goes
wrong when a chat handler does this instead. What comes back depends on ``tool_choice``:

    none              tools not shown; the reply is plain content
    auto              reply parsed: each <tool_call>{"name", "arguments"}</tool_call> → tool_calls,
                      the rest (if any) → content; a reply with no such block: each bare
                      or fenced {"name": <one of the tools>, "arguments": {...}} → tool_calls
    required / named  decoding constrained by a JSON schema
                      {"name": const NAME, "arguments": <that tool's parameters>}
                      (one branch per tool for required), so the reply *is* the call

Calls are returned with ``arguments`` as a JSON string and ``finish_reason: "tool_calls"``.

The bare form is how the embedded Qwen2.5-Coder models answer: on BFCL the 0.5B wrote
229 of 250 replies' calls without the tags its template asks for (docs/eval/bfcl-0.5b/),
and llama-server's Hermes parser reads such calls too. Here a bare object counts as a
call only when it names one of the request's tools and its arguments are an object, so
an answer that merely shows some JSON stays content.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from foreplan.serve.errors import InvalidRequestError
from foreplan.serve.schemas import (
    AssistantMessage,
    ChatMessage,
    FunctionCall,
    NamedToolChoice,
    ToolCall,
    ToolDefinition,
)

# Qwen2.5's chat template (tokenizer.chat_template in its GGUF) asks for this form.
_TOOL_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


def template_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Request messages as the chat template reads them.

    ``developer`` becomes ``system``; an assistant's earlier tool calls carry their
    arguments as objects, because templates write them with ``tojson`` (a JSON string
    would be encoded twice).
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {"role": "system" if m.role == "developer" else m.role, "content": m.text()}
        if m.tool_calls:
            item["tool_calls"] = [{"id": c.id, "type": "function", "function": {
                "name": c.function.name, "arguments": _loads_or_text(c.function.arguments)}} for c in m.tool_calls]
        if m.role == "tool" and m.name:
            item["name"] = m.name
        out.append(item)
    return out


def _loads_or_text(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def tool_mode(tools: list[ToolDefinition] | None, choice: str | NamedToolChoice | None) -> str | None:
    """``None`` (no tools), ``"none"``, ``"auto"``, ``"required"`` or the named tool.

    Raises:
        InvalidRequestError: a tool_choice without tools, or naming a tool not given.
    """
    if not tools:
        if choice not in (None, "none"):
            raise InvalidRequestError("tool_choice needs a non-empty tools list.", param="tool_choice")
        return None
    if choice is None:
        return "auto"
    if isinstance(choice, NamedToolChoice):
        name = choice.function.get("name", "")
        if name not in {t.function.name for t in tools}:
            raise InvalidRequestError(f"tool_choice names {name!r}, which is not in tools.", param="tool_choice")
        return f"function:{name}"
    return choice


def call_schema(tools: list[ToolDefinition], mode: str) -> dict[str, Any]:
    """The JSON schema a forced call must match (``required`` or ``function:NAME``)."""
    chosen = [t for t in tools if mode == "required" or mode == f"function:{t.function.name}"]
    branches = [{"type": "object", "properties": {"name": {"const": t.function.name},
                                                   "arguments": t.function.parameters or {"type": "object"}},
                 "required": ["name", "arguments"]} for t in chosen]
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def _call(obj: Any) -> ToolCall | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return None
    arguments = obj.get("arguments", obj.get("parameters", {}))
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return ToolCall(id=f"call_{uuid.uuid4().hex[:24]}", function=FunctionCall(name=obj["name"], arguments=text))


def forced_call(text: str) -> list[ToolCall]:
    """The call in a reply decoded under :func:`call_schema` (empty if it is not one,
    e.g. cut short by ``max_tokens``)."""
    try:
        call = _call(json.loads(text))
    except ValueError:
        return []
    return [call] if call else []


def parse_tool_calls(text: str, names: frozenset[str] | set[str] = frozenset()) -> tuple[str | None, list[ToolCall]]:
    """Split an ``auto`` reply into content and calls: its ``<tool_call>`` blocks, or,
    when it has none, its bare or fenced JSON calls of the tools in ``names``.

    A block that is not a JSON call stays in the content, so nothing the model wrote
    is lost.
    """
    spans: list[tuple[int, int]] = []
    calls: list[ToolCall] = []
    for m in _TOOL_CALL_RE.finditer(text):
        try:
            call = _call(json.loads(m.group(1)))
        except ValueError:
            call = None
        if call is not None:
            spans.append((m.start(), m.end()))
            calls.append(call)
    if not calls and names:
        spans, calls = _bare_calls(text, names)
    if not calls:
        return text, []
    kept, last = [], 0
    for start, end in spans:
        kept.append(text[last:start])
        last = end
    kept.append(text[last:])
    content = _EMPTY_FENCE_RE.sub("", "".join(kept)).strip()
    return content or None, calls


_EMPTY_FENCE_RE = re.compile(r"```[a-zA-Z]*\s*```")


def _bare_calls(text: str, names: frozenset[str] | set[str]) -> tuple[list[tuple[int, int]], list[ToolCall]]:
    """The spans and calls of the JSON values in ``text`` that are calls of ``names``
    (one object, or a list of them)."""
    decoder = json.JSONDecoder()
    spans: list[tuple[int, int]] = []
    calls: list[ToolCall] = []
    at = 0
    while (start := _next_value(text, at)) >= 0:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            at = start + 1
            continue
        items = value if isinstance(value, list) and value else [value]
        found = [_call(item) for item in items if isinstance(item, dict) and item.get("name") in names
                 and isinstance(item.get("arguments", item.get("parameters")), dict)]
        if found and len(found) == len(items):
            spans.append((start, end))
            calls += [c for c in found if c is not None]
        at = end if found else start + 1
    return spans, calls


def _next_value(text: str, at: int) -> int:
    """Where the next ``{`` or ``[`` is at or after ``at`` (-1: none)."""
    hits = [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]
    return min(hits) if hits else -1


def assistant_reply(text: str, mode: str | None, names: frozenset[str] = frozenset()) -> AssistantMessage:
    """The assistant message for a reply's whole text under tool ``mode`` (streamed or
    not); ``names``: the request's tools."""
    if mode in (None, "none"):
        return AssistantMessage(content=text)
    forced = mode not in ("auto", "none")
    content, calls = (None, forced_call(text)) if forced else parse_tool_calls(text, names)
    return AssistantMessage(content=content if calls else text, tool_calls=calls or None)
