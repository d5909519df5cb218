"""Tools from a JSON specification, as dry-run stubs: plan against an API set before
writing a line of its code.

A spec file lists tools in one of two shapes:

    TaskBench   {"nodes": [{"id": "get_weather", "desc": "...",
                            "parameters": [{"name": "location", "type": "string", "desc": "..."}]}]}
    OpenAI      [{"type": "function", "function": {"name": "...", "description": "...",
                                                   "parameters": {JSON schema}}}]   (or the bare functions)

Each tool validates its arguments like any other and answers with what it was asked to
do (``get_weather done: {"location": "Paris"}``). Nothing real happens, so a stub never
has side effects. ``spec_files = [...]`` in a toolkit file adds them; foreplan's TaskBench
eval and ``configs/toolkits/taskbench.toml`` use TaskBench's 40 daily-life tools this way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic

from foreplan.errors import ConfigError
from foreplan.tools.tool import Tool

_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool,
                          "array": list, "object": dict,
                          # written as text; TaskBench's specs use these
                          "date": str, "time": str, "datetime": str, "text": str}


def load_spec_tools(path: str | Path) -> list[Tool]:
    """The stub tools a spec file describes, in its order.

    Raises:
        ConfigError: the file is missing or not JSON, or a tool lacks a name or a
            description, or a parameter has a type JSON schema does not name.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"tool spec file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"tool spec file {path} is not readable JSON: {exc}") from exc
    entries = data["nodes"] if isinstance(data, dict) and "nodes" in data else data
    if not isinstance(entries, list):
        raise ConfigError(f"tool spec file {path}: expected a list of tools or {{\"nodes\": [...]}}")
    return spec_tools(entries, str(path))


def spec_tools(entries: list[Any], where: str = "tool spec") -> list[Tool]:
    """Stub tools for spec entries (either shape), in their order.

    Raises:
        ConfigError: an entry lacks a name or a description, or a parameter's type is unknown.
    """
    return [_stub(entry, f"{where} tool {i + 1}") for i, entry in enumerate(entries)]


def _stub(entry: Any, where: str) -> Tool:
    if isinstance(entry, dict) and isinstance(entry.get("function"), dict):
        entry = entry["function"]
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: a tool is an object, not {type(entry).__name__}")
    name = entry.get("name") or entry.get("id")
    description = (entry.get("description") or entry.get("desc") or "").strip()
    if not name or not description:
        raise ConfigError(f"{where}: every tool needs a name (or id) and a description (or desc)")
    fields = _fields(entry.get("parameters") or [], f"{where} ({name})")
    model = pydantic.create_model(f"{name}_arguments", **fields)

    def stub(**arguments: Any) -> str:
        return f"{name} done: {json.dumps(arguments, ensure_ascii=False, default=str)}"

    return Tool(name, description, stub, model, returns="what was done")


def _fields(parameters: Any, where: str) -> dict[str, Any]:
    if isinstance(parameters, dict):  # a JSON schema object
        required = set(parameters.get("required", []))
        listed = [{"name": n, **(p if isinstance(p, dict) else {})} | {"required": n in required}
                  for n, p in (parameters.get("properties") or {}).items()]
    elif isinstance(parameters, list):  # TaskBench: every parameter is required
        listed = [p | {"required": True} if isinstance(p, dict) else p for p in parameters]
    else:
        raise ConfigError(f"{where}: parameters must be a list or a JSON schema object")
    fields: dict[str, Any] = {}
    for p in listed:
        if not isinstance(p, dict) or not p.get("name"):
            raise ConfigError(f"{where}: every parameter needs a name")
        kind = p.get("type", "string")
        if kind not in _TYPES:
            raise ConfigError(f"{where}: parameter {p['name']!r} has type {kind!r}; use one of {', '.join(_TYPES)}")
        description = p.get("description") or p.get("desc") or ""
        annotation = _TYPES[kind] if p["required"] else _TYPES[kind] | None
        fields[p["name"]] = (annotation, pydantic.Field(... if p["required"] else None, description=description))
    return fields
