"""Gorilla function docs (BFCL's format) → OpenAI-style tools with JSON Schema parameters.

BFCL writes parameter types with Python names; a chat template shows tools as JSON
Schema, so the model should see the standard words::

    Gorilla                              JSON Schema
    dict                           ──►   object        (properties / items converted recursively)
    float, double                  ──►   number
    tuple, list                    ──►   array
    any, an unknown or missing type ──►  string        (as BFCL's GORILLA_TO_OPENAPI does)
    integer, string, boolean, array ──►  unchanged

Gorilla's own ``optional`` flag is not JSON Schema and is dropped (``required`` already
says it). Each description gets BFCL's Python hint, exactly as its open-model handlers
add it (``bfcl_eval/utils.py`` ``_get_language_specific_hint``), so scores compare with
the leaderboard's. The docs given are never modified; the checker reads them as they are.
"""

from __future__ import annotations

import copy
from typing import Any

#: Gorilla type names that JSON Schema spells differently (bfcl_eval/constants/type_mappings.py).
GORILLA_TYPES = {
    "dict": "object", "float": "number", "double": "number", "tuple": "array", "list": "array",
    "any": "string", "bool": "boolean", "long": "integer",
}
JSON_TYPES = {"object", "number", "integer", "string", "boolean", "array", "null"}
#: What BFCL appends to every Python function description.
PYTHON_HINT = " Note that the provided function is in Python 3 syntax."


def to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """One Gorilla (sub)schema as JSON Schema; a new dict, ``schema`` is left as it is."""
    out = {k: copy.deepcopy(v) for k, v in schema.items() if k not in ("type", "properties", "items", "optional")}
    gorilla = schema.get("type")
    json_type = gorilla if gorilla in JSON_TYPES else GORILLA_TYPES.get(gorilla, "string")
    out["type"] = json_type
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {name: to_json_schema(sub) if isinstance(sub, dict) else sub
                             for name, sub in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        out["items"] = to_json_schema(schema["items"])
    return out


def to_tool(function: dict[str, Any]) -> dict[str, Any]:
    """A Gorilla function doc as an OpenAI tool definition (what ``GenerationOptions.tools`` takes)."""
    parameters = to_json_schema(function.get("parameters") or {"type": "dict", "properties": {}})
    parameters["type"] = "object"  # BFCL's convert_to_tool does the same for the top level
    return {"type": "function", "function": {
        "name": function["name"],
        "description": (function.get("description") or "") + PYTHON_HINT,
        "parameters": parameters,
    }}


def to_tools(functions: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Every function of a question as tools, in order."""
    return tuple(to_tool(f) for f in functions)
