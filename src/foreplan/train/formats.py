"""Dataset rows → conversations: alpaca, sharegpt (with tools), Trelis, ReWOO plans.

Every training format becomes the same thing, a list of chat messages (OpenAI shape, tool
calls included) plus the tools offered, so one chat template renders them all and the
loss mask only has to know which messages are the assistant's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from foreplan.errors import DatasetError

#: LLaMA-Factory's default column and tag names per formatting.
ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output", "system": "system",
                  "history": "history"}
SHAREGPT_COLUMNS = {"messages": "conversations", "system": "system", "tools": "tools"}
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
TRELIS_COLUMNS = {"system": "systemPrompt", "prompt": "userPrompt", "response": "assistantResponse"}


class RowError(DatasetError, ValueError):
    """A row that cannot become a conversation; the message says which field and why."""


@dataclass
class Conversation:
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _text(row: dict[str, Any], column: str | None, required: bool = False) -> str:
    value = row.get(column) if column else None
    if value is None or (isinstance(value, float) and value != value):  # NaN from CSV
        if required:
            raise RowError(f"missing column {column!r}")
        return ""
    if not isinstance(value, str):
        raise RowError(f"column {column!r} should be text, got {type(value).__name__}")
    return value


def _tool_call(value: Any) -> dict[str, Any]:
    """``{"name"|"function": ..., "arguments": {...}}`` or an OpenAI tool call → OpenAI shape."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowError(f"function call is not JSON ({exc.msg} at char {exc.pos})") from exc
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        value = value["function"]
    if not isinstance(value, dict):
        raise RowError("function call must be a JSON object")
    name = value.get("name") or value.get("function")
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise RowError("function call arguments are not JSON") from exc
    if not isinstance(name, str) or not name or not isinstance(arguments, dict):
        raise RowError("function call needs a name and an object of arguments")
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def _tool_calls(content: str) -> list[dict[str, Any]]:
    """A function_call turn: one call, or a JSON list of calls made together (parallel)."""
    try:
        value = json.loads(content)
    except json.JSONDecodeError as exc:
        raise RowError(f"function call is not JSON ({exc.msg} at char {exc.pos})") from exc
    if isinstance(value, list):
        if not value:
            raise RowError("a function_call turn lists no call")
        return [_tool_call(call) for call in value]
    return [_tool_call(value)]


def _tools(value: Any) -> list[dict[str, Any]] | None:
    if value in (None, "", []) or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowError("tools is not JSON") from exc
    if not isinstance(value, list):
        raise RowError("tools must be a list of function definitions")
    return [t if t.get("type") == "function" else {"type": "function", "function": t} for t in value]


def from_alpaca(row: dict[str, Any], columns: dict[str, str]) -> Conversation:
    cols = {**ALPACA_COLUMNS, **columns}
    prompt = _text(row, cols["prompt"], required=True)
    query = _text(row, cols.get("query"))
    response = _text(row, cols["response"], required=True)
    if not response.strip():
        raise RowError(f"empty response in column {cols['response']!r}")
    messages: list[dict[str, Any]] = []
    system = _text(row, cols.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for turn in row.get(cols.get("history") or "", None) or []:
        if not (isinstance(turn, (list, tuple)) and len(turn) == 2):
            raise RowError("history must be a list of [user, assistant] pairs")
        messages += [{"role": "user", "content": str(turn[0])}, {"role": "assistant", "content": str(turn[1])}]
    user = f"{prompt}\n{query}" if query else prompt
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": response}]
    return Conversation(messages)


def from_sharegpt(row: dict[str, Any], columns: dict[str, str], tags: dict[str, str]) -> Conversation:
    cols = {**SHAREGPT_COLUMNS, **columns}
    tag = {**SHAREGPT_TAGS, **tags}
    turns = row.get(cols["messages"])
    if not isinstance(turns, list) or not turns:
        raise RowError(f"column {cols['messages']!r} must be a non-empty list of turns")
    roles = {tag["user_tag"]: "user", tag["assistant_tag"]: "assistant", tag["observation_tag"]: "tool",
             tag["function_tag"]: "function_call", tag["system_tag"]: "system"}
    messages: list[dict[str, Any]] = []
    system = _text(row, cols.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise RowError(f"turn {i} is not an object")
        role = roles.get(turn.get(tag["role_tag"]))
        content = turn.get(tag["content_tag"])
        if role is None or not isinstance(content, str):
            raise RowError(f"turn {i} has an unknown role {turn.get(tag['role_tag'])!r} or no text")
        if role == "function_call":
            messages.append({"role": "assistant", "content": "", "tool_calls": _tool_calls(content)})
        else:
            messages.append({"role": role, "content": content})
    if messages[-1]["role"] != "assistant":
        raise RowError("the conversation does not end with an assistant (or function_call) turn")
    return Conversation(messages, tools=_tools(row.get(cols.get("tools") or "")))


def from_trelis(row: dict[str, Any], columns: dict[str, str]) -> Conversation:
    """Trelis function-calling rows: the response is a call (old ``{"function", "arguments"}``
    or the v3 OpenAI tool form) or, when it is not JSON, a plain answer."""
    cols = {**TRELIS_COLUMNS, **columns}
    system = _text(row, cols["system"])
    user = _text(row, cols["prompt"], required=True)
    response = _text(row, cols["response"], required=True).strip()
    if not response:
        raise RowError(f"empty response in column {cols['response']!r}")
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    if response.startswith(("{", "[")):
        try:
            parsed = json.loads(response)
        except json.JSONDecodeError as exc:
            raise RowError(f"response looks like a call but is not JSON ({exc.msg})") from exc
        calls = parsed if isinstance(parsed, list) else [parsed]
        messages.append({"role": "assistant", "content": "", "tool_calls": [_tool_call(c) for c in calls]})
    else:
        messages.append({"role": "assistant", "content": response})
    return Conversation(messages)


def flatten_tool_calls(conversation: Conversation) -> Conversation:
    """For templates that know no tools: calls become JSON text, observations user turns."""
    messages = []
    for m in conversation.messages:
        if m.get("tool_calls"):
            calls = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in m["tool_calls"]]
            text = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
            messages.append({"role": "assistant", "content": text})
        elif m["role"] == "tool":
            messages.append({"role": "user", "content": f"Observation: {m['content']}"})
        else:
            messages.append(m)
    if conversation.tools:
        listed = "\n".join(json.dumps(t["function"], ensure_ascii=False) for t in conversation.tools)
        head = f"You can call these functions:\n{listed}"
        if messages and messages[0]["role"] == "system":
            messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{head}"}
        else:
            messages.insert(0, {"role": "system", "content": head})
    return Conversation(messages, None, conversation.meta)
