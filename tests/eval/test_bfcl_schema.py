"""Gorilla function docs → JSON Schema tools (``foreplan.eval.bfcl_schema``)."""

from __future__ import annotations

import copy

from foreplan.eval.bfcl_schema import PYTHON_HINT, to_json_schema, to_tool, to_tools

# simple_python_0 of BFCL v4, as shipped.
TRIANGLE = {
    "name": "calculate_triangle_area",
    "description": "Calculate the area of a triangle given its base and height.",
    "parameters": {"type": "dict", "properties": {
        "base": {"type": "integer", "description": "The base of the triangle."},
        "height": {"type": "integer", "description": "The height of the triangle."},
        "unit": {"type": "string", "description": "The unit of measure (defaults to 'units' if not specified)"},
    }, "required": ["base", "height"]},
}


def test_gorilla_type_names_become_json_schema_names() -> None:
    assert to_json_schema({"type": "dict", "properties": {}}) == {"type": "object", "properties": {}}
    assert to_json_schema({"type": "float", "description": "x"}) == {"type": "number", "description": "x"}
    assert to_json_schema({"type": "tuple", "items": {"type": "float"}}) == {"type": "array", "items": {"type": "number"}}
    assert to_json_schema({"type": "any"}) == {"type": "string"}  # as BFCL's GORILLA_TO_OPENAPI
    assert to_json_schema({"type": "Unheard"}) == {"type": "string"}
    assert to_json_schema({"description": "no type"}) == {"description": "no type", "type": "string"}
    for same in ("integer", "string", "boolean", "number"):
        assert to_json_schema({"type": same}) == {"type": same}


def test_nested_dicts_and_lists_convert_all_the_way_down_and_keep_their_constraints() -> None:
    gorilla = {"type": "dict", "required": ["rows"], "properties": {
        "rows": {"type": "array", "description": "Rows.", "items": {"type": "dict", "properties": {
            "weight": {"type": "float", "default": 1.0},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "span": {"type": "tuple", "items": {"type": "integer"}, "optional": True},
        }}},
    }}
    assert to_json_schema(gorilla) == {"type": "object", "required": ["rows"], "properties": {
        "rows": {"type": "array", "description": "Rows.", "items": {"type": "object", "properties": {
            "weight": {"type": "number", "default": 1.0},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "span": {"type": "array", "items": {"type": "integer"}},  # Gorilla's "optional" is dropped
        }}},
    }}


def test_a_function_doc_becomes_an_openai_tool_with_bfcl_python_hint_and_is_not_modified() -> None:
    before = copy.deepcopy(TRIANGLE)
    tool = to_tool(TRIANGLE)
    assert TRIANGLE == before  # the checker reads the original docs
    assert tool == {"type": "function", "function": {
        "name": "calculate_triangle_area",
        "description": "Calculate the area of a triangle given its base and height." + PYTHON_HINT,
        "parameters": {"type": "object", "required": ["base", "height"], "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "integer", "description": "The height of the triangle."},
            "unit": {"type": "string", "description": "The unit of measure (defaults to 'units' if not specified)"},
        }},
    }}


def test_dotted_names_are_kept_and_order_is_kept() -> None:
    tools = to_tools([{"name": "math.factorial", "description": "n!", "parameters": {
        "type": "dict", "properties": {"number": {"type": "integer"}}}}, TRIANGLE])
    assert [t["function"]["name"] for t in tools] == ["math.factorial", "calculate_triangle_area"]
