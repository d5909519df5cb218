"""The @tool decorator: schemas from hints and docstrings, refusals at decoration time."""

from __future__ import annotations

import asyncio

import pytest

from foreplan.errors import ToolDefinitionError, ToolError
from foreplan.tools.context import RunContext
from foreplan.tools.tool import parse_docstring, tool


def test_schema_comes_from_hints_and_the_args_section():
    @tool(timeout=3, retries=2, side_effects=True)
    def search(query: str, k: int = 3) -> list:
        """Search the index.

        Args:
            query: What to search for,
                over two lines.
            k: How many results.

        Returns:
            A list of hits with title and text.
        """
        return [query] * k

    assert search.name == "search"
    assert search.description == "Search the index."
    assert search.returns == "A list of hits with title and text."
    assert (search.timeout, search.retries, search.side_effects) == (3, 2, True)
    props = search.parameters["properties"]
    assert props["query"] == {"description": "What to search for, over two lines.", "title": "Query", "type": "string"}
    assert props["k"]["type"] == "integer" and props["k"]["default"] == 3
    assert search.parameters["required"] == ["query"]
    assert search.single_input == "query"
    assert search(query="x", k="2") == ["x", "x"]  # coerced by pydantic


def test_several_required_arguments_need_the_function_caller():
    @tool
    def book(restaurant: str, people: int) -> str:
        """Book a table.

        Args:
            restaurant: Where.
            people: How many.
        """
        return f"{restaurant}:{people}"

    assert book.single_input is None
    with pytest.raises(ToolError, match="people: Input should be a valid integer"):
        book(restaurant="x", people="many")


def test_missing_hint_is_refused():
    with pytest.raises(ToolDefinitionError, match="parameter 'query' needs a type hint"):
        @tool
        def search(query) -> str:
            """Search.

            Args:
                query: What.
            """


def test_undocumented_parameter_is_refused():
    with pytest.raises(ToolDefinitionError, match="parameter 'k' is not described"):
        @tool
        def search(query: str, k: int) -> str:
            """Search.

            Args:
                query: What.
            """


def test_missing_docstring_is_refused():
    with pytest.raises(ToolDefinitionError, match="add a docstring"):
        @tool
        def search(query: str) -> str:
            return query


def test_async_tools_run_in_their_own_loop():
    @tool(name="wait")
    async def wait_a_bit(seconds: float) -> str:
        """Wait.

        Args:
            seconds: How long.
        """
        await asyncio.sleep(seconds)
        return "waited"

    assert wait_a_bit.name == "wait"
    assert wait_a_bit(seconds=0.01) == "waited"


def test_parse_docstring_handles_types_in_parentheses():
    desc, args, returns = parse_docstring(
        """Do it.

        Args:
            a (int): First.
            b (str, optional): Second.
        Returns:
            dict: the result.
        """
    )
    assert desc == "Do it."
    assert args == {"a": "First.", "b": "Second."}
    assert returns == "dict: the result."


def test_a_run_context_parameter_is_filled_by_the_run_and_never_by_a_model():
    @tool
    def ask(question: str, run: RunContext) -> str:
        """Ask the run's model.

        Args:
            question: what to ask.
        """
        return f"{question}: {run.llm}"

    assert ask.context_parameter == "run"
    assert list(ask.parameters["properties"]) == ["question"] and ask.single_input == "question"
    assert ask.run({"question": "q"}, RunContext(llm="the model")) == "q: the model"  # type: ignore[arg-type]
    assert ask(question="q") == "q: None"  # outside a run: an empty context


def test_the_llm_tool_outside_a_run_says_so():
    from foreplan.tools.llm_tool import llm_tool

    with pytest.raises(ToolError, match="only works inside an agent run"):
        llm_tool(input="hi")
