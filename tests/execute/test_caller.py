"""The function caller turns a step's input into a tool's arguments: directly when it
can (one text input, or JSON that already fits), through the caller model under the
tool's JSON schema when it must, and as a ToolError when the result does not fit.

``ScriptedLLM([])`` proves that no model was asked: it raises on its first call.
"""

from __future__ import annotations

import json

import pytest

from foreplan.errors import ToolError
from foreplan.execute.caller import FunctionCaller
from foreplan.llm.scripted import ScriptedLLM
from foreplan.tools.tool import tool
from foreplan.types import Step, Usage


@tool
def search(query: str) -> str:
    """Search the web.

    Args:
        query: what to look for.
    """
    return query


@tool
def square(n: int) -> int:
    """Square a number.

    Args:
        n: the number.
    """
    return n * n


@tool
def book_table(city: str, people: int, vegetarian: bool = False) -> str:
    """Book a restaurant table.

    Args:
        city: where.
        people: how many guests.
        vegetarian: whether the place must be vegetarian.
    """
    return city


STEP = Step("E2", "Book a table for the group in the city found before.", "book_table", "#E1")


def test_single_input_tool_takes_the_text_without_a_model():
    llm = ScriptedLLM([])
    arguments, usage = FunctionCaller(llm).arguments(STEP, search, "Nolan films [2010]")

    assert arguments == {"query": "Nolan films [2010]"}
    assert usage == Usage() and llm.calls == []


def test_single_input_gets_a_typed_number_only_where_the_parameter_is_a_number():
    caller = FunctionCaller(None)
    assert caller.arguments(STEP, square, "7", value=7, whole=True)[0] == {"n": 7}
    assert caller.arguments(STEP, square, "7", value=7.0, whole=True)[0] == {"n": 7}
    # A calculator's 42 into a text parameter is the text "42", not a schema error.
    assert caller.arguments(STEP, search, "42", value=42, whole=True)[0] == {"query": "42"}
    assert caller.arguments(STEP, search, "[1, 2]", value=[1, 2], whole=True)[0] == {"query": "[1, 2]"}


def test_single_input_that_cannot_fit_is_a_tool_error():
    with pytest.raises(ToolError, match=r"^arguments for square do not fit its schema: n: "):
        FunctionCaller(None).arguments(STEP, square, "seven")


def test_json_input_is_used_directly_without_a_model():
    llm = ScriptedLLM([])
    text = '{"city": "Paris", "people": "4"}'
    arguments, usage = FunctionCaller(llm).arguments(STEP, book_table, text)

    assert arguments == {"city": "Paris", "people": 4, "vegetarian": False}
    assert usage == Usage() and llm.calls == []


def test_a_referenced_object_is_used_directly_without_a_model():
    llm = ScriptedLLM([])
    value = {"city": "Rome", "people": 2, "vegetarian": True}
    arguments, _ = FunctionCaller(llm).arguments(STEP, book_table, json.dumps(value), value=value, whole=True)

    assert arguments == value and llm.calls == []


def test_several_arguments_go_through_the_model_under_the_schema():
    llm = ScriptedLLM(['{"city": "Paris", "people": 4}'])
    arguments, usage = FunctionCaller(llm).arguments(STEP, book_table, "Paris, for four people")

    assert arguments == {"city": "Paris", "people": 4, "vegetarian": False}
    assert usage.calls == 1
    messages, options = llm.calls[0]
    assert options.constraint.json_schema == book_table.parameters
    assert options.constraint.json_schema["required"] == ["city", "people"]
    prompt = messages[-1]["content"]
    assert "Function: book_table" in prompt
    assert "Step: Book a table for the group in the city found before." in prompt
    assert prompt.rstrip().endswith("Reply with the JSON object of arguments only.")
    assert "Input: Paris, for four people" in prompt


def test_json_that_does_not_fit_is_handed_to_the_model():
    llm = ScriptedLLM(['```json\n{"city": "Oslo", "people": 3}\n```'])
    arguments, _ = FunctionCaller(llm).arguments(STEP, book_table, '{"town": "Oslo", "guests": 3}')

    assert arguments["city"] == "Oslo" and len(llm.calls) == 1
    assert 'Input: {"town": "Oslo", "guests": 3}' in llm.calls[0][0][-1]["content"]


def test_model_without_grammar_support_gets_no_schema_constraint():
    llm = ScriptedLLM(['{"city": "Paris", "people": 4}'])
    llm.supports_grammar = False
    FunctionCaller(llm).arguments(STEP, book_table, "Paris for 4")

    assert llm.calls[0][1].constraint.json_schema is None


@pytest.mark.parametrize("reply", ["Sure! Paris for four.", '["Paris", 4]', '{"city": "Paris",'])
def test_reply_that_is_not_a_json_object_is_a_tool_error(reply):
    with pytest.raises(ToolError, match="^the function caller did not reply with a JSON object: "):
        FunctionCaller(ScriptedLLM([reply])).arguments(STEP, book_table, "Paris for 4")


def test_reply_that_violates_the_schema_is_a_tool_error():
    llm = ScriptedLLM(['{"city": "Paris", "people": "lots"}'])
    with pytest.raises(ToolError, match=r"^arguments for book_table do not fit its schema: people: Input should be a valid integer"):
        FunctionCaller(llm).arguments(STEP, book_table, "Paris for lots")


def test_no_caller_model_is_a_tool_error():
    with pytest.raises(ToolError, match="^book_table takes several arguments and no function-caller model is configured$"):
        FunctionCaller(None).arguments(STEP, book_table, "Paris for 4")


def test_a_failing_model_is_a_tool_error():
    with pytest.raises(ToolError, match=r"^the function caller failed: ScriptedLLM 'scripted' has no reply left"):
        FunctionCaller(ScriptedLLM([])).arguments(STEP, book_table, "Paris for 4")
